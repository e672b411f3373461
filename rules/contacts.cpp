#include "rules/contacts.hpp"

#include <filesystem>

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

std::optional<std::int64_t> date_value(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_string()) return parse_date_ms(v.get<std::string>());
  return std::nullopt;
}
// Streams one JSON-lines record straight into a ContactRecord without building a DOM: the
// simulate path reads millions of lines. Accepts the same shapes as contact_from_json.
class ContactSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit ContactSax(ContactRecord& out) : out_(out) {}
  std::string error;

  bool null() override { return value({}, true); }
  bool boolean(bool v) override { return value(v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return value(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& s) override { return value(s); }
  bool string(string_t& v) override { return value(std::move(v)); }
  bool binary(binary_t&) override { return value({}); }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 1) return true;
    if (depth_ == 2 && key_ == "properties" && !in_array_) {
      in_properties_ = true;
      return true;
    }
    error = "nested objects are not contact properties";
    return false;
  }
  bool end_object() override {
    if (depth_ == 2) in_properties_ = false;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (in_array_ || depth_ == 0) {
      error = depth_ == 0 ? "a contact is a JSON object" : "nested lists are not contact properties";
      return false;
    }
    in_array_ = true;
    array_value_.clear();
    array_first_ = true;
    return true;
  }
  bool end_array() override {
    in_array_ = false;
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
    if (depth_ == 1 && (key_ == "id" || (key_ == "hs_object_id" && out_.id.empty()))) {
      out_.id = v;
      if (key_ == "id") return true;
    }
    if (depth_ == 1 && saw_properties_object()) return true;  // other top-level fields of a HubSpot object
    out_.properties.emplace_back(key_, std::move(v));
    return true;
  }
  bool saw_properties_object() const { return has_properties_; }

 public:
  bool has_properties_ = false;

 private:
  ContactRecord& out_;
  int depth_ = 0;
  bool in_properties_ = false;
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
    out.properties.emplace_back(it.key(), scalar_text(it.value()));
  }
  if (out.id.empty())
    if (const std::string* id = out.find("hs_object_id")) out.id = *id;
  return true;
}

bool state_from_json(const nlohmann::json& j, ContactState& out, std::string& error) {
  out = ContactState{};
  if (j.is_null()) return true;
  if (!j.is_object()) {
    error = "the stored state is a JSON object";
    return false;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "stage_entered_at" || k == "cool_off_until") {
      auto ms = date_value(it.value());
      if (!ms) {
        error = "state: " + k + " is not a date";
        return false;
      }
      (k == "stage_entered_at" ? out.stage_entered_at : out.cool_off_until) = *ms;
    } else if (k == "recycle_count" && it.value().is_number_integer()) {
      out.recycle_count = it.value().get<std::int32_t>();
    } else if (k == "last_return_reason" && it.value().is_string()) {
      out.last_return_reason = it.value().get<std::string>();
    } else if (k == "fired" && it.value().is_array()) {
      for (const auto& f : it.value())
        if (f.is_string()) out.fired.push_back(f.get<std::string>());
    } else {
      error = "state: unknown or malformed key '" + k +
              "' (known: stage_entered_at, recycle_count, cool_off_until, last_return_reason, fired)";
      return false;
    }
  }
  return true;
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
    if (!read_csv_record(header_)) {
      error = path + ": the CSV file is empty (a header row of property names comes first)";
      return false;
    }
    if (!header_.empty() && header_[0].rfind("\xEF\xBB\xBF", 0) == 0) header_[0].erase(0, 3);  // BOM
  }
  return true;
}

std::uint64_t ContactReader::position() {
  const auto p = in_.tellg();
  return p < 0 ? size_ : static_cast<std::uint64_t>(p);
}

bool ContactReader::read_csv_record(std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false, any = false;
  char c;
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
      return true;
    } else {
      field += c;
    }
  }
  if (!any) return false;
  if (!field.empty() && field.back() == '\r') field.pop_back();
  fields.push_back(std::move(field));
  ++line_;
  return true;
}

bool ContactReader::next(ContactRecord& out, std::string& error) {
  error.clear();
  out.id.clear();
  out.properties.clear();
  if (csv_) {
    std::vector<std::string> fields;
    while (true) {
      if (!read_csv_record(fields)) return false;
      if (!(fields.size() == 1 && fields[0].empty())) break;  // blank line
    }
    if (fields.size() != header_.size()) {
      error = "line " + std::to_string(line_) + ": " + std::to_string(fields.size()) + " fields, the header has " +
              std::to_string(header_.size());
      return true;
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (header_[i] == "id" || header_[i] == "Record ID" || header_[i] == "hs_object_id") out.id = fields[i];
      if (header_[i] != "id") out.properties.emplace_back(header_[i], std::move(fields[i]));
    }
    return true;
  }
  while (std::getline(in_, buffer_)) {
    ++line_;
    if (buffer_.find_first_not_of(" \t\r") == std::string::npos) continue;
    ContactSax sax(out);
    // HubSpot objects ({"id", "properties": {...}, "createdAt", ...}) put properties one level down;
    // a flat object is all properties.
    sax.has_properties_ = buffer_.find("\"properties\"") != std::string::npos;
    if (!nlohmann::json::sax_parse(buffer_, &sax) || !sax.error.empty()) {
      error = "line " + std::to_string(line_) + ": " + (sax.error.empty() ? "not valid JSON" : sax.error);
      out.properties.clear();
    }
    return true;
  }
  return false;
}

}  // namespace tandem::rules
