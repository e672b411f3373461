#pragma once
// Contacts and stored state from files: a HubSpot object as JSON, JSON-lines and CSV exports.

#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "rules/evaluator.hpp"

namespace tandem::rules {

// From a HubSpot object {"id": "...", "properties": {...}} or a flat object of properties.
// Strings are kept as they are, numbers printed, booleans become "true"/"false", null means unset.
bool contact_from_json(const nlohmann::json& j, ContactRecord& out, std::string& error);
// {"stage_entered_at": "2026-11-02T09:00:00Z", "recycle_count": 1, "cool_off_until": ..., "fired": [...]}
bool state_from_json(const nlohmann::json& j, ContactState& out, std::string& error);

// Reads contacts one by one from a JSON-lines file (one object per line) or, for *.csv, a CSV file
// with a header row of property names (an "id" or "Record ID" column gives the id).
class ContactReader {
 public:
  bool open(const std::string& path, std::string& error);
  // False at the end of the file. A malformed line sets `error` (with its line number) and
  // returns true with an empty record: the caller counts it and goes on.
  bool next(ContactRecord& out, std::string& error);
  [[nodiscard]] std::size_t line() const { return line_; }
  // Bytes read so far and the file's size, for progress.
  [[nodiscard]] std::uint64_t position();
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  bool read_csv_record(std::vector<std::string>& fields);
  std::ifstream in_;
  bool csv_ = false;
  std::vector<std::string> header_;
  std::size_t line_ = 0;
  std::uint64_t size_ = 0;
  std::string buffer_;
};

}  // namespace tandem::rules
