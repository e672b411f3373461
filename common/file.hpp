#pragma once
// The one way a whole file is read into memory (configuration, rule files, TLS material, seeds).

#include <string>
#include <system_error>

#include "common/result.hpp"

namespace tandem {

// The file's bytes, unchanged. The error is the operating system's reason (no such file,
// permission denied, is a directory), so that a message can say why: "cannot read key.pem:
// Permission denied". Files people point Tandem at are outside input, hence a Result.
Result<std::string, std::error_code> read_file(const std::string& path);

}  // namespace tandem
