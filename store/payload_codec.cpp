#include "store/payload_codec.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace tandem::store {
namespace {

struct Entry {
  char code;
  std::string_view text;
};

// Frozen with layout version 4 (see the header). Codes are the control bytes JSON text cannot
// contain: 0x01-0x08, 0x0B, 0x0C, 0x0E-0x1F. Every text starts with a quote.
constexpr Entry kEntries[] = {
    {0x01, R"("eventId":)"},
    {0x02, R"("subscriptionId":)"},
    {0x03, R"("portalId":)"},
    {0x04, R"("appId":)"},
    {0x05, R"("occurredAt":)"},
    {0x06, R"("subscriptionType":)"},
    {0x07, R"("attemptNumber":)"},
    {0x08, R"("objectId":)"},
    {0x0B, R"("propertyName":)"},
    {0x0C, R"("propertyValue":)"},
    {0x0E, R"("changeSource":)"},
    {0x0F, R"("sourceId":)"},
    {0x10, R"("objectTypeId":)"},
    {0x11, R"("eventType":)"},
    {0x12, R"("contact.propertyChange")"},
    {0x13, R"("contact.creation")"},
    {0x14, R"("contact.deletion")"},
    {0x15, R"("company.propertyChange")"},
    {0x16, R"("deal.propertyChange")"},
    {0x17, R"("object.propertyChange")"},
    {0x18, R"("CRM_UI")"},
    {0x19, R"("INTEGRATION")"},
    {0x1A, R"("lifecyclestage")"},
    {0x1B, R"("hs_lead_status")"},
    {0x1C, R"("API")"},
    {0x1D, R"("userId:)"},
    {0x1E, R"("IMPORT")"},
    {0x1F, R"("FORM")"},
};

constexpr bool is_code(unsigned char c) { return c < 0x20 && c != 0x00 && c != '\t' && c != '\n' && c != '\r'; }

struct Tables {
  // Candidates by the byte after the opening quote, longest first so that a longer text wins.
  std::array<std::array<std::int8_t, 8>, 128> by_second{};
  std::array<std::string_view, 32> by_code{};
  Tables() {
    for (auto& slot : by_second) slot.fill(-1);
    for (std::size_t i = 0; i < std::size(kEntries); ++i) {
      const Entry& e = kEntries[i];
      by_code[static_cast<unsigned char>(e.code)] = e.text;
      auto& slot = by_second[static_cast<unsigned char>(e.text[1])];
      std::size_t at = 0;
      while (at + 1 < slot.size() && slot[at] >= 0 && kEntries[slot[at]].text.size() >= e.text.size()) ++at;
      for (std::size_t k = slot.size() - 1; k > at; --k) slot[k] = slot[k - 1];
      slot[at] = static_cast<std::int8_t>(i);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

namespace {

// Whether `text` holds a code byte. Eight bytes at a time: a word with no byte below 0x20 (the
// usual case: HubSpot sends compact JSON) needs no closer look.
bool has_code_byte(std::string_view text) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  const char* p = text.data();
  const std::size_t n = text.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (((word - kOnes * 0x20) & ~word & (kOnes * 0x80)) == 0) continue;
    for (std::size_t k = i; k < i + 8; ++k) {
      if (is_code(static_cast<unsigned char>(p[k]))) return true;
    }
  }
  for (; i < n; ++i) {
    if (is_code(static_cast<unsigned char>(p[i]))) return true;
  }
  return false;
}

}  // namespace

bool encode_payload(std::string_view json, std::string& out) {
  if (has_code_byte(json)) return false;
  const Tables& t = tables();
  out.resize(json.size());  // the encoded form is never longer
  char* w = out.data();
  const char* p = json.data();
  const char* const end = p + json.size();
  while (p < end) {
    const auto* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
    if (quote == nullptr) quote = end;
    std::memcpy(w, p, static_cast<std::size_t>(quote - p));
    w += quote - p;
    p = quote;
    if (p == end) break;
    const std::size_t left = static_cast<std::size_t>(end - p);
    const auto second = left > 1 ? static_cast<unsigned char>(p[1]) : 0;
    const Entry* match = nullptr;
    if (second < 128) {
      for (std::int8_t i : t.by_second[second]) {
        if (i < 0) break;
        const Entry& e = kEntries[i];
        if (e.text.size() <= left && std::memcmp(p, e.text.data(), e.text.size()) == 0) {
          match = &e;
          break;
        }
      }
    }
    if (match != nullptr) {
      *w++ = match->code;
      p += match->text.size();
    } else {
      *w++ = '"';
      ++p;
    }
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
  return true;
}

std::string decode_payload(std::string_view stored) {
  const Tables& t = tables();
  std::string out;
  out.reserve(stored.size() * 3);
  for (char c : stored) {
    const auto u = static_cast<unsigned char>(c);
    if (is_code(u) && !t.by_code[u].empty()) {
      out.append(t.by_code[u]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace tandem::store
