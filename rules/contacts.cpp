#include "rules/contacts.hpp"

#include <array>
#include <charconv>
#include <filesystem>
#include <limits>
#include <string_view>

#include "common/diagnostics.hpp"
#include "rules/time.hpp"

namespace tandem::rules {

namespace {
std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) {
    std::string s = v.dump();
    return s;
  }
  if (v.is_array()) {  // multi-select given as a list
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ";") + scalar_text(x);
    return s;
  }
  return v.dump();
}

// ---- Tandem's stored state (the shape is in contacts.hpp) ----

enum StateKey : int { kStageEnteredAt, kRecycleCount, kCoolOffUntil, kLastReturnReason, kFired, kStateKeys };
constexpr std::array<std::string_view, kStateKeys> kStateKeyNames = {"stage_entered_at", "recycle_count",
                                                                     "cool_off_until", "last_return_reason", "fired"};

int state_key(std::string_view name) {
  for (int k = 0; k < kStateKeys; ++k)
    if (kStateKeyNames[static_cast<std::size_t>(k)] == name) return k;
  return -1;
}

// "unknown key 'recycle_cnt' (did you mean 'recycle_count'? ...)" with names written as `prefix` + key.
std::string unknown_state_key(const std::string& prefix, const std::string& name, const char* what) {
  std::vector<std::string> known;
  for (auto k : kStateKeyNames) known.push_back(prefix + std::string(k));
  std::string s = std::string(what) + " '" + prefix + name + "' is not part of Tandem's stored state (";
  if (auto near = nearest_match(prefix + name, known); !near.empty()) s += "did you mean '" + near + "'? ";
  s += "known: ";
  for (std::size_t i = 0; i < known.size(); ++i) s += (i ? ", " : "") + known[i];
  return s + ")";
}

std::string shown(const nlohmann::json& v) {
  // A CSV cell may hold any bytes (a Latin-1 export): replaced, and cut at a character.
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 40) {
    std::size_t cut = 37;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

// The same bound as dates written as digits (parse_timestamp_ms): up to year 33658, so that
// deadlines computed from a stored time cannot overflow.
constexpr std::int64_t kMaxStateMs = 999'999'999'999'999;
// Returns to nurture a contact can have had; beyond it a count is a mistake, not a history.
constexpr std::int32_t kMaxRecycleCount = 1'000'000;

std::optional<std::int64_t> state_time(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(kMaxStateMs)) return static_cast<std::int64_t>(u);
    return std::nullopt;
  }
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i >= 0 && i <= kMaxStateMs) return i;
    return std::nullopt;
  }
  if (v.is_string()) return parse_date_ms(v.get<std::string>());
  return std::nullopt;
}

std::optional<std::int32_t> state_count(const nlohmann::json& v) {
  constexpr auto kMax = static_cast<std::uint64_t>(kMaxRecycleCount);
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= kMax) return static_cast<std::int32_t>(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i >= 0 && static_cast<std::uint64_t>(i) <= kMax) return static_cast<std::int32_t>(i);
  } else if (v.is_string()) {  // CSV cells, and exports that write every value as text
    const std::string& s = v.get_ref<const std::string&>();
    std::int32_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc{} && end == s.data() + s.size() && n >= 0 && n <= kMaxRecycleCount && !s.empty() && s[0] != '-' &&
        s[0] != '+')
      return n;
  }
  return std::nullopt;
}

// Sets one field; an empty string or null leaves it unset. Returns why the value is wrong, or "".
std::string set_state_field(int key, const nlohmann::json& v, ContactState& out) {
  if (v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty())) return {};
  switch (key) {
    case kStageEnteredAt:
    case kCoolOffUntil: {
      auto ms = state_time(v);
      if (!ms)
        return shown(v) +
               " is not a time (ISO-8601 such as 2026-11-02T10:00:00Z or 2026-11-02T11:00:00+01:00, or epoch "
               "milliseconds)";
      (key == kStageEnteredAt ? out.stage_entered_at : out.cool_off_until) = *ms;
      return {};
    }
    case kRecycleCount: {
      auto n = state_count(v);
      if (!n) return shown(v) + " is not a whole number from 0 to 1000000";
      out.recycle_count = *n;
      return {};
    }
    case kLastReturnReason:
      if (!v.is_string()) return shown(v) + " is not text (a return reason such as \"bad_timing\")";
      out.last_return_reason = v.get<std::string>();
      return {};
    case kFired:
      if (!v.is_array())
        return shown(v) + " is not a list of the SLA tasks already created (such as [\"First touch on MQL\"])";
      out.fired.clear();
      for (const auto& f : v) {
        if (!f.is_string() || f.get_ref<const std::string&>().empty())
          return shown(f) + " in the list is not the name of an SLA task (such as \"First touch on MQL\")";
        out.fired.push_back(f.get<std::string>());
      }
      return {};
    default: return "unknown key";
  }
}

// An object of state keys (the "state" of a JSON line, an --state file). Errors name keys as
// "state.<key>".
bool state_object(const nlohmann::json& j, ContactState& out, std::string& error) {
  out = ContactState{};
  if (j.is_null()) return true;
  if (!j.is_object()) {
    error = "state: Tandem's stored state is a JSON object, not " + shown(j);
    return false;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const int key = state_key(it.key());
    if (key < 0) {
      error = unknown_state_key("state.", it.key(), "key");
      return false;
    }
    if (std::string why = set_state_field(key, it.value(), out); !why.empty()) {
      error = "state." + it.key() + ": " + why;
      return false;
    }
  }
  return true;
}

// Streams one JSON-lines record straight into a ContactRecord without building a DOM: the
// simulate path reads millions of lines. Accepts the same shapes as contact_from_json, plus the
// stored state ("state": {...}), which is small and collected as JSON for state_object().
class ContactSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  ContactSax(ContactRecord& out, nlohmann::json& state) : out_(out), state_(state) {}
  std::string error;
  bool saw_state = false;
  // A top-level "state" that is not an object: HubSpot's State/Region property in a flat object of
  // properties, a mistake next to "properties" (checked once the whole line is read).
  bool top_level_state_text = false;
  [[nodiscard]] bool hubspot_object() const { return has_properties_; }

  bool null() override { return in_state_ ? state_value(nullptr) : value({}, true); }
  bool boolean(bool v) override { return in_state_ ? state_value(v) : value(v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return in_state_ ? state_value(v) : value(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return in_state_ ? state_value(v) : value(std::to_string(v)); }
  bool number_float(number_float_t v, const string_t& s) override { return in_state_ ? state_value(v) : value(s); }
  bool string(string_t& v) override { return in_state_ ? state_value(std::move(v)) : value(std::move(v)); }
  bool binary(binary_t&) override { return value({}); }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 1) return true;
    if (depth_ == 2 && !in_array_ && key_ == "properties") {
      // A HubSpot object ({"id", "properties": {...}, "createdAt", ...}): its other top-level fields
      // are not properties; drop the ones read before this point and skip those after.
      if (!has_properties_) out_.properties.clear();
      has_properties_ = true;
      in_properties_ = true;
      return true;
    }
    if (depth_ == 2 && !in_array_ && key_ == "state") {
      in_state_ = true;
      saw_state = true;
      state_ = nlohmann::json::object();
      return true;
    }
    error =
        in_state_ ? "state." + key_ + ": an object is not a state value" : "nested objects are not contact properties";
    return false;
  }
  bool end_object() override {
    if (depth_ == 2) in_properties_ = in_state_ = false;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (in_array_ || depth_ == 0) {
      error = depth_ == 0 ? "a contact is a JSON object"
              : in_state_ ? "state." + key_ + ": nested lists are not state values"
                          : "nested lists are not contact properties";
      return false;
    }
    in_array_ = true;
    if (in_state_) {
      state_[key_] = nlohmann::json::array();
      return true;
    }
    array_value_.clear();
    array_first_ = true;
    return true;
  }
  bool end_array() override {
    in_array_ = false;
    if (in_state_) return true;
    return store(std::move(array_value_));
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    error = "not valid JSON";
    return false;
  }

 private:
  bool state_value(nlohmann::json v) {
    if (in_array_)
      state_[key_].push_back(std::move(v));
    else
      state_[key_] = std::move(v);
    return true;
  }
  bool value(std::string v, bool is_null = false) {
    if (depth_ == 0) {
      error = "a contact is a JSON object";
      return false;
    }
    if (in_array_) {
      if (!is_null) {
        if (!array_first_) array_value_ += ';';
        array_value_ += v;
        array_first_ = false;
      }
      return true;
    }
    return store(std::move(v));
  }
  bool store(std::string v) {
    if (depth_ == 1 && key_ == "state" && !v.empty()) top_level_state_text = true;  // null: no state
    if (depth_ == 1 && (key_ == "id" || (key_ == "hs_object_id" && out_.id.empty()))) {
      out_.id = v;
      if (key_ == "id") return true;
    }
    if (depth_ == 1 && has_properties_) return true;  // other top-level fields of a HubSpot object
    out_.properties.emplace_back(key_, std::move(v));
    return true;
  }

  ContactRecord& out_;
  nlohmann::json& state_;
  int depth_ = 0;
  bool has_properties_ = false;
  bool in_properties_ = false;
  bool in_state_ = false;
  bool in_array_ = false;
  bool array_first_ = true;
  std::string key_;
  std::string array_value_;
};

}  // namespace

bool contact_from_json(const nlohmann::json& j, ContactRecord& out, std::string& error) {
  out.id.clear();
  out.properties.clear();
  if (!j.is_object()) {
    error = "a contact is a JSON object";
    return false;
  }
  const nlohmann::json* props = &j;
  if (j.contains("properties") && j["properties"].is_object()) {
    props = &j["properties"];
    if (j.contains("id")) out.id = scalar_text(j["id"]);
  }
  for (auto it = props->begin(); it != props->end(); ++it) {
    if (props == &j && (it.key() == "id" || it.key() == "hs_object_id") && out.id.empty())
      out.id = scalar_text(it.value());
    if (props == &j && it.key() == "id") continue;
    if (props == &j && it.key() == "state" && it.value().is_object()) continue;  // the stored state
    out.properties.emplace_back(it.key(), scalar_text(it.value()));
  }
  if (out.id.empty())
    if (const std::string* id = out.find("hs_object_id")) out.id = *id;
  return true;
}

bool state_from_json(const nlohmann::json& j, ContactState& out, std::string& error) {
  return state_object(j, out, error);
}

bool ContactReader::open(const std::string& path, std::string& error) {
  in_.open(path, std::ios::binary);
  if (!in_) {
    error = path + ": cannot open";
    return false;
  }
  std::error_code ec;
  size_ = std::filesystem::file_size(path, ec);
  const auto ext = std::filesystem::path(path).extension().string();
  csv_ = ext == ".csv" || ext == ".CSV";
  if (csv_) {
    if (read_csv_record(header_) < 0) {
      error = path + ": the CSV file is empty (a header row of property names comes first)";
      return false;
    }
    if (!header_.empty() && header_[0].rfind("\xEF\xBB\xBF", 0) == 0) header_[0].erase(0, 3);  // BOM
    column_kind_.assign(header_.size(), -1);
    for (std::size_t i = 0; i < header_.size(); ++i) {
      constexpr std::string_view kPrefix = "tandem.";
      if (header_[i].rfind(kPrefix, 0) != 0) continue;
      const std::string name = header_[i].substr(kPrefix.size());
      column_kind_[i] = state_key(name);
      if (column_kind_[i] < 0) {
        error = path + ": line 1: " + unknown_state_key("tandem.", name, "the column");
        return false;
      }
    }
  }
  return true;
}

std::uint64_t ContactReader::position() {
  const auto p = in_.tellg();
  return p < 0 ? size_ : static_cast<std::uint64_t>(p);
}

int ContactReader::read_csv_record(std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false, any = false;
  char c = 0;  // after the loop: the last character read
  while (in_.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in_.peek() == '"') {
          in_.get(c);
          field += '"';
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++line_;
      if (!field.empty() && field.back() == '\r') field.pop_back();
      fields.push_back(std::move(field));
      return 0;
    } else {
      field += c;
    }
  }
  if (!any) return -1;
  if (c != '\n') ++line_;  // the last line has no line break (a break inside quotes was counted)
  if (!field.empty() && field.back() == '\r') field.pop_back();
  fields.push_back(std::move(field));
  return quoted ? 1 : 0;
}

bool ContactReader::next_csv(ContactRecord& out, ContactState& state, std::string& error) {
  std::size_t first_line = 0;
  int status = 0;
  while (true) {
    first_line = line_ + 1;
    status = read_csv_record(fields_);
    if (status < 0) return false;
    if (!(fields_.size() == 1 && fields_[0].empty())) break;  // blank line
  }
  const std::string at = "line " + std::to_string(first_line) + ": ";
  if (status == 1) {
    // An unclosed quote swallows every later line: say so rather than count them as one record.
    error = at + "a quoted field is not closed (a '\"' is missing); lines " + std::to_string(first_line) + " to " +
            std::to_string(line_) + " are skipped";
    return true;
  }
  if (fields_.size() != header_.size()) {
    error = at + std::to_string(fields_.size()) + " fields, the header has " + std::to_string(header_.size());
    return true;
  }
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (const int key = column_kind_[i]; key >= 0) {
      if (fields_[i].empty()) continue;
      had_state_ = true;
      nlohmann::json v;
      if (key == kFired) {
        v = nlohmann::json::array();
        std::string_view rest = fields_[i];
        while (!rest.empty()) {
          const auto semi = rest.find(';');
          if (auto name = rest.substr(0, semi); !name.empty()) v.push_back(std::string(name));
          rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        }
      } else {
        v = std::move(fields_[i]);
      }
      if (std::string why = set_state_field(key, v, state); !why.empty()) {
        error = at + header_[i] + ": " + why;
        out.id.clear();
        out.properties.clear();
        state = ContactState{};
        had_state_ = false;
        return true;
      }
      continue;
    }
    if (header_[i] == "id" || header_[i] == "Record ID" || header_[i] == "hs_object_id") out.id = fields_[i];
    if (header_[i] != "id") out.properties.emplace_back(header_[i], std::move(fields_[i]));
  }
  return true;
}

bool ContactReader::next(ContactRecord& out, ContactState& state, std::string& error) {
  error.clear();
  out.id.clear();
  out.properties.clear();
  state = ContactState{};
  had_state_ = false;
  if (csv_) return next_csv(out, state, error);
  while (std::getline(in_, buffer_)) {
    ++line_;
    if (buffer_.find_first_not_of(" \t\r") == std::string::npos) continue;
    ContactSax sax(out, state_json_);
    const std::string at = "line " + std::to_string(line_) + ": ";
    if (!nlohmann::json::sax_parse(buffer_, &sax) || !sax.error.empty()) {
      error = at + (sax.error.empty() ? "not valid JSON" : sax.error);
      out.id.clear();
      out.properties.clear();
      return true;
    }
    if (sax.hubspot_object() && sax.top_level_state_text) {
      error = at + "state: Tandem's stored state is a JSON object such as {\"recycle_count\": 1}";
      out.id.clear();
      out.properties.clear();
      return true;
    }
    if (sax.saw_state) {
      had_state_ = !state_json_.empty();
      std::string why;
      if (!state_object(state_json_, state, why)) {
        error = at + why;
        out.id.clear();
        out.properties.clear();
        state = ContactState{};
        had_state_ = false;
      }
    }
    return true;
  }
  return false;
}

}  // namespace tandem::rules
