#include "connector/cli.hpp"

int main(int argc, char** argv) { return tandem::connector::run_cli(argc, argv); }
