#pragma once
// HubSpot's Webhooks Journal (2026-03) as far as an app needs it to learn of installs and
// uninstalls (CONTRACT-ADDITIONS.md §5): client-credentials tokens for the app, its journal
// subscriptions (APP_LIFECYCLE_EVENT), and the journal's entries, each a JSON file fetched from a
// pre-signed URL. Plain data: the router's mutex guards it, journal_routes.cpp serves it.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem::sandbox {

// The event type ids of the journal's app lifecycle events (HubSpot's OpenAPI spec,
// AppLifecycleEventSubscriptionUpsertRequest.eventTypeId).
inline constexpr const char* kAppInstallEventType = "4-1909196";
inline constexpr const char* kAppUninstallEventType = "4-1916193";

// How long the journal keeps an entry ("the past 3 days", journal entries guide).
inline constexpr std::int64_t kJournalRetentionMs = 3LL * 24 * 3600 * 1000;
// How long a pre-signed file URL works [UNCONFIRMED: the answer's expiresAt is documented, its
// usual distance from now is not; 15 minutes is taken].
inline constexpr std::int64_t kJournalUrlTtlMs = 15LL * 60 * 1000;

// A client-credentials token: the app itself, no account.
struct AppToken {
  std::vector<std::string> scopes;
  std::int64_t expires_ms = 0;
};

struct JournalSubscription {
  std::int64_t id = 0;
  std::string event_type_id;
  std::vector<std::string> properties;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

struct JournalEntry {
  std::string offset;        // a UUID
  std::int64_t portal_id = 0;
  std::int64_t published_ms = 0;
  nlohmann::json file;       // what the entry's URL answers
};

// A pre-signed URL handed out for one entry's file.
struct JournalUrl {
  std::string offset;
  std::int64_t expires_ms = 0;
};

struct AppJournal {
  std::unordered_map<std::string, AppToken> tokens;
  std::vector<JournalSubscription> subscriptions;
  std::int64_t next_subscription_id = 1;
  std::deque<JournalEntry> entries;  // oldest first
  std::map<std::string, JournalUrl> urls;  // the URL's key -> what it serves until when
};

}  // namespace tandem::sandbox
