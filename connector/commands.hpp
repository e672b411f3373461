#pragma once
// Each subcommand of `tandem` is added by one function. A command's callback stores its exit code
// in `exit_code`; main returns it. CLI11 stays in the .cpp files that need it.

namespace CLI {
class App;
}

namespace tandem::connector {

// `tandem rules check|test|explain|simulate` (rules_command.cpp).
void add_rules_command(CLI::App& app, int& exit_code);
// `tandem sandbox` (sandbox_command.cpp).
void add_sandbox_command(CLI::App& app, int& exit_code);
// `tandem serve --config FILE`: the webhook listener (/webhooks/hubspot, /healthz, /readyz,
// /metrics) over the SQLite inbox, until SIGINT/SIGTERM (serve_command.cpp).
void add_serve_command(CLI::App& app, int& exit_code);
// `tandem inbox stats|list|replay` for admins (inbox_command.cpp).
void add_inbox_command(CLI::App& app, int& exit_code);
// `tandem outbox stats|list|retry|drop` for admins (outbox_command.cpp).
void add_outbox_command(CLI::App& app, int& exit_code);
// `tandem accounts list|show|disconnect` for admins (accounts_command.cpp).
void add_accounts_command(CLI::App& app, int& exit_code);
// `tandem manifest --out DIR | --check DIR`: the HubSpot developer project (manifest_command.cpp).
void add_manifest_command(CLI::App& app, int& exit_code);
// `tandem tokens rotate-key` for admins: re-encrypts the stored OAuth tokens with the current key
// (tokens_command.cpp).
void add_tokens_command(CLI::App& app, int& exit_code);
// `tandem audit CONTACT_ID`: the decisions about a contact and its stage history.
void add_audit_command(CLI::App& app, int& exit_code);
// `tandem scoreboard`.
void add_scoreboard_command(CLI::App& app, int& exit_code);

}  // namespace tandem::connector
