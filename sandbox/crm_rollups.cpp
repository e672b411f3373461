// A contact's activity roll-ups, which HubSpot computes from the activities associated with it
// (sources and what is not confirmed: CONTRACT-ADDITIONS.md §2 at the repository root):
//   notes_last_contacted    Last Contacted: the latest call, meeting or outgoing email
//   num_contacted_notes     Number of times contacted: how many of those
//   notes_last_updated      Last Activity Date: the latest of any engagement (notes included)
//                           and of any completed task's completion
//   num_notes               Number of Sales Activities: how many engagements
//   hs_sales_email_last_replied, hs_last_sales_activity_timestamp/_type (Last Engagement):
//                           the latest email the contact sent (INCOMING_EMAIL), type EMAIL_REPLIED;
//                           the contact's own engagement, not the rep's
// Dates are the activity's hs_timestamp (property histories show the activity time, not the
// write time). A roll-up with no activity behind it keeps its value, so seeded values survive
// until an activity is logged.

#include <optional>

#include "sandbox/crm_state.hpp"

namespace tandem::sandbox {

namespace {

// HubSpot's own writer, as property histories show it for notes_last_contacted.
const WriteSource kRollupSource{"ENGAGEMENTS", "ObjectPropertyUpdater"};

struct Rollups {
  std::optional<std::int64_t> last_contacted, last_activity, last_replied;
  std::int64_t contacted = 0, activities = 0;
};

void latest(std::optional<std::int64_t>& slot, std::int64_t ms) {
  if (!slot || ms > *slot) slot = ms;
}

std::optional<std::int64_t> time_of(const CrmObject& o, const char* property) {
  auto it = o.props.find(property);
  if (it == o.props.end()) return std::nullopt;
  return parse_datetime_ms(it->second);
}

void add(Rollups& r, ObjectType t, const CrmObject& o) {
  if (t == ObjectType::kTask) {
    auto status = o.props.find("hs_task_status");
    if (status == o.props.end() || status->second != "COMPLETED") return;
    if (auto done = time_of(o, "hs_task_completion_date")) latest(r.last_activity, *done);
    return;
  }
  if (!is_engagement(t)) return;
  auto when = time_of(o, "hs_timestamp");
  if (!when) return;
  ++r.activities;
  latest(r.last_activity, *when);
  bool contacted = t == ObjectType::kCall || t == ObjectType::kMeeting;
  if (t == ObjectType::kEmail) {
    auto direction = o.props.find("hs_email_direction");
    bool incoming = direction != o.props.end() && direction->second == "INCOMING_EMAIL";
    if (incoming) latest(r.last_replied, *when);
    contacted = !incoming;
  }
  if (contacted) {
    ++r.contacted;
    latest(r.last_contacted, *when);
  }
}

}  // namespace

void CrmState::refresh_related(Portal& p, ObjectType t, std::int64_t id, std::int64_t now_ms, std::vector<ChangeEvent>& events) {
  if (t == ObjectType::kContact) {
    refresh_rollups(p, id, now_ms, events);
    return;
  }
  const auto* edges = associations(p, t, id);
  if (!edges) return;
  std::vector<std::int64_t> contacts;
  for (const auto& e : *edges)
    if (e.to_type == ObjectType::kContact) contacts.push_back(e.to_id);
  for (auto c : contacts) refresh_rollups(p, c, now_ms, events);
}

void CrmState::refresh_rollups(Portal& p, std::int64_t contact_id, std::int64_t now_ms, std::vector<ChangeEvent>& events) {
  if (seeding_) return;
  auto& contacts = p.objects[static_cast<int>(ObjectType::kContact)];
  auto found = contacts.find(contact_id);
  if (found == contacts.end() || found->second.archived) return;
  CrmObject& contact = found->second;
  Rollups r;
  if (const auto* edges = associations(p, ObjectType::kContact, contact_id)) {
    for (const auto& e : *edges) {
      const auto& objs = p.objects[static_cast<int>(e.to_type)];
      auto it = objs.find(e.to_id);
      if (it != objs.end() && !it->second.archived) add(r, e.to_type, it->second);
    }
  }
  std::vector<std::pair<const char*, std::string>> wanted;
  if (r.last_contacted) wanted.emplace_back("notes_last_contacted", iso8601_ms(*r.last_contacted));
  if (r.contacted > 0) wanted.emplace_back("num_contacted_notes", std::to_string(r.contacted));
  if (r.last_activity) wanted.emplace_back("notes_last_updated", iso8601_ms(*r.last_activity));
  if (r.activities > 0) wanted.emplace_back("num_notes", std::to_string(r.activities));
  if (r.last_replied) {
    wanted.emplace_back("hs_sales_email_last_replied", iso8601_ms(*r.last_replied));
    wanted.emplace_back("hs_last_sales_activity_timestamp", iso8601_ms(*r.last_replied));
    wanted.emplace_back("hs_last_sales_activity_type", "EMAIL_REPLIED");
  }
  bool began = false;
  for (const auto& [name, value] : wanted) {
    auto it = contact.props.find(name);
    if (it != contact.props.end() && it->second == value) continue;
    if (!began) {
      begin_write(contact, now_ms);
      began = true;
    }
    contact.props[name] = value;
    record_version(contact, name, value, now_ms, kRollupSource);
    events.push_back({ChangeEvent::Kind::kPropertyChange, p.config.id, ObjectType::kContact, contact_id, name, value, now_ms,
                      kRollupSource.change_source, kRollupSource.source_id});
  }
  if (began) {
    contact.updated_ms = now_ms;
    contact.props[modified_property(ObjectType::kContact)] = iso8601_ms(now_ms);
  }
}

}  // namespace tandem::sandbox
