#include "hubspot/outbox.hpp"

#include <cstdlib>

#include <openssl/evp.h>

namespace tandem::hubspot {

std::string_view to_string(Lane lane) {
  switch (lane) {
    case Lane::kContactUpdates: return "contact_updates";
    case Lane::kLifecycleClear: return "lifecycle_clear";
    case Lane::kLifecycleSet: return "lifecycle_set";
    case Lane::kTaskCreates: return "task_creates";
  }
  return "contact_updates";
}

std::optional<Lane> parse_lane(std::string_view text) {
  for (Lane lane : kLanes) {
    if (to_string(lane) == text) return lane;
  }
  return std::nullopt;
}

std::string_view to_string(ItemState state) {
  switch (state) {
    case ItemState::kPending: return "pending";
    case ItemState::kInFlight: return "in_flight";
    case ItemState::kDead: return "dead";
    case ItemState::kDone: return "done";
  }
  return "pending";
}

std::optional<ItemState> parse_item_state(std::string_view text) {
  for (ItemState state : {ItemState::kPending, ItemState::kInFlight, ItemState::kDead, ItemState::kDone}) {
    if (to_string(state) == text) return state;
  }
  return std::nullopt;
}

std::string task_marker(std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // SHA-256 of a memory buffer fails only when OpenSSL cannot allocate: a marker that is not the
  // key's would let a task be created twice, so that is a programming-error-class stop.
  if (EVP_Digest(key.data(), key.size(), digest, &size, EVP_sha256(), nullptr) != 1 || size < 16) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "[tandem:";
  for (unsigned int i = 0; i < 16; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0F]);
  }
  out.push_back(']');
  return out;
}

}  // namespace tandem::hubspot
