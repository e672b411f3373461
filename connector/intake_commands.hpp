#pragma once
// `tandem serve` and `tandem inbox`, owned with the webhook intake (issue 5). CLI11 stays in the
// .cpp files.

namespace CLI {
class App;
}

namespace tandem::connector {

// `tandem serve --config FILE`: the webhook listener (/webhooks/hubspot, /healthz, /readyz,
// /metrics) over the SQLite inbox, until SIGINT/SIGTERM (serve_command.cpp).
void add_serve_command(CLI::App& app, int& exit_code);
// `tandem inbox stats|list|replay` for admins (inbox_command.cpp).
void add_inbox_command(CLI::App& app, int& exit_code);

}  // namespace tandem::connector
