#pragma once
// Contacts and Tandem's stored state from files: a HubSpot object as JSON, JSON-lines and CSV
// exports.
//
// Stored state (rules::ContactState) is what a running Tandem keeps per contact between
// evaluations: the store saves it as JSON in contact_states.rules_state, and the shape here is that
// JSON, so a back-test over an export from a running Tandem decides as the service would:
//
//   {"stage_entered_at": "2026-11-02T10:00:00Z",   when the contact entered its current stage
//                                                   (the hand-off time for a stage a rule moved it to)
//    "recycle_count": 1,                            returns to nurture so far
//    "cool_off_until": "2027-01-01T00:00:00+01:00", may not qualify again before this
//    "last_return_reason": "bad_timing",
//    "fired": ["First touch on MQL", "First touch on MQL/escalate", "data_quality"]}
//                                                   SLA tasks, escalations and the data-fix task
//                                                   already created (not created again)
//
// Times are ISO-8601 (UTC when no offset is written; "+01:00" or "Z" otherwise) or epoch
// milliseconds (a JSON integer or an all-digit string, as the store writes them). Every key is
// optional; null means not set. An unknown key or a value of the wrong kind is an error.
//
// Where it goes:
//   - JSON-lines: a "state" object next to "id" and "properties":
//       {"id": "1", "properties": {...}, "state": {"recycle_count": 1, ...}}
//     (in a flat object of properties too: a property's value is never an object, so "state": {...}
//     is the stored state, while "state": "CA" stays HubSpot's State/Region property).
//   - CSV: reserved columns named "tandem." + the key (tandem.stage_entered_at, tandem.recycle_count,
//     tandem.cool_off_until, tandem.last_return_reason, tandem.fired with the names separated by
//     ";"). An empty cell is not set. HubSpot property names never hold a dot, so the names cannot
//     clash; an unknown tandem.* column is an error in the header.
// The evaluator reads nothing else of Tandem's memory (not the stage history), so nothing else is
// needed for a faithful back-test.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/evaluator.hpp"

namespace tandem::rules {

// From a HubSpot object {"id": "...", "properties": {...}} or a flat object of properties.
// Strings are kept as they are, numbers printed, booleans become "true"/"false", null means unset.
bool contact_from_json(const nlohmann::json& j, ContactRecord& out, std::string& error);
// The stored state above, as an object of its own (`tandem rules explain --state`). Errors name the
// key as "state.<key>".
bool state_from_json(const nlohmann::json& j, ContactState& out, std::string& error);

// Reads contacts one by one from a JSON-lines file (one object per line) or, for *.csv, a CSV file
// with a header row of property names (an "id" or "Record ID" column gives the id), each with its
// stored state when the export carries one (see above).
class ContactReader {
 public:
  // False with `error` when the file cannot be read, a CSV file has no header, or the header names
  // an unknown tandem.* column.
  bool open(const std::string& path, std::string& error);
  // False at the end of the file. Otherwise fills `out` and `state` (an empty state when the line
  // carries none) and returns true; a malformed line (bad JSON, a wrong number of CSV fields, a
  // malformed state value) sets `error` to "line N: why" and leaves the record empty: the caller
  // counts it and goes on. N is the line the record starts on.
  bool next(ContactRecord& out, ContactState& state, std::string& error);
  // Whether the record last read carried stored state (a "state" object, a non-empty tandem.* cell).
  [[nodiscard]] bool had_state() const { return had_state_; }
  [[nodiscard]] std::size_t line() const { return line_; }
  // Bytes read so far and the file's size, for progress.
  [[nodiscard]] std::uint64_t position();
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  // -1: end of file; 0: a record; 1: a record whose quoted field is not closed at the end of the file.
  int read_csv_record(std::vector<std::string>& fields);
  bool next_csv(ContactRecord& out, ContactState& state, std::string& error);
  std::ifstream in_;
  bool csv_ = false;
  std::vector<std::string> header_;
  // Per CSV column: -1 a property (or the id), >= 0 a tandem.* state key (StateKey in contacts.cpp).
  std::vector<int> column_kind_;
  std::vector<std::string> fields_;
  std::size_t line_ = 0;
  std::uint64_t size_ = 0;
  std::string buffer_;
  nlohmann::json state_json_;
  bool had_state_ = false;
};

}  // namespace tandem::rules
