#pragma once
// How the inbox stores an event's JSON: the field names HubSpot sends in every event, and a few
// frequent values, each replaced by one control byte. Valid JSON never contains those bytes
// (JSON allows no raw control characters but tab, newline and carriage return), so the
// substitution is reversed exactly: decode_payload(encoded) is the text as received, byte for
// byte. A typical property change shrinks from ~310 to ~115 bytes; the bytes written per event
// (WAL, then the database file) are most of what the intake costs.
//
// The table of substitutions is part of the inbox layout (version 4): changing it changes how
// stored payloads read back, so it takes a new layout version.

#include <optional>
#include <string>
#include <string_view>

namespace tandem::store {

// The stored form of `json` in `out`; false (and `out` unspecified) when `json` contains one of
// the code bytes (it is then not valid JSON) and must be stored as it is.
bool encode_payload(std::string_view json, std::string& out);

// The text of a payload encode_payload() produced.
std::string decode_payload(std::string_view stored);

}  // namespace tandem::store
