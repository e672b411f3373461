#include "webhooks/inbox_report.hpp"

#include <chrono>
#include <cstdio>

#include "common/time_format.hpp"

namespace tandem::webhooks {

std::string format_epoch_ms(std::int64_t ms) { return format_iso8601_ms(ms); }

std::string render_stats(const InboxStats& s) {
  char age[64];
  std::snprintf(age, sizeof age, "%.3f", std::chrono::duration<double>(s.oldest_unprocessed_age).count());
  return "unprocessed  " + std::to_string(s.unprocessed) + " (claimed " + std::to_string(s.claimed) + ")\n" +
         "done         " + std::to_string(s.done) + "\n" +
         "dead         " + std::to_string(s.dead) + "\n" +
         "skipped      " + std::to_string(s.skipped) + " (own echoes)\n" +
         "unknown type " + std::to_string(s.unknown_types) + "\n" +
         "oldest unprocessed event: " + age + " s old\n";
}

nlohmann::json stats_to_json(const InboxStats& s) {
  return {{"unprocessed", s.unprocessed},   {"claimed", s.claimed},
          {"done", s.done},             {"dead", s.dead},
          {"skipped", s.skipped},       {"unknown_types", s.unknown_types},
          {"oldest_unprocessed_age_ms", s.oldest_unprocessed_age.count()}};
}

std::string render_list(const std::vector<StoredEvent>& events) {
  std::string out = "id\tstate\tattempts\treceived\tportal\ttype\tobject\tevent\toccurred\terror\n";
  for (const auto& e : events) {
    out += std::to_string(e.id) + '\t' + std::string(to_string(e.state)) + '\t' + std::to_string(e.attempts) + '\t' +
           format_epoch_ms(e.received_at) + '\t' + std::to_string(e.event.portal_id) + '\t' +
           e.event.subscription_type + (e.event.property_name ? ":" + *e.event.property_name : "") + '\t' +
           std::to_string(e.event.object_id) + '\t' + std::to_string(e.event.event_id) + '\t' +
           format_epoch_ms(e.event.occurred_at) + '\t' + e.last_error + '\n';
  }
  return out;
}

nlohmann::json event_to_json(const StoredEvent& e) {
  nlohmann::json payload = nlohmann::json::parse(e.event.payload, nullptr, false);
  return {{"id", e.id},
          {"state", to_string(e.state)},
          {"attempts", e.attempts},
          {"received_at", format_epoch_ms(e.received_at)},
          {"last_error", e.last_error},
          {"own_echo", e.event.own_echo},
          {"known_type", e.event.known_type},
          {"event", payload.is_discarded() ? nlohmann::json(e.event.payload) : payload}};
}

}  // namespace tandem::webhooks
