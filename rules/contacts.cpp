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
    if (props == &j && (it.key() == "id" || it.key() == "hs_object_id") && out.id.empty()) out.id = scalar_text(it.value());
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
    nlohmann::json j = nlohmann::json::parse(buffer_, nullptr, false);
    if (j.is_discarded() || !contact_from_json(j, out, error)) {
      error = "line " + std::to_string(line_) + ": " + (j.is_discarded() ? "not valid JSON" : error);
      out.properties.clear();
    }
    return true;
  }
  return false;
}

}  // namespace tandem::rules
