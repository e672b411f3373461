#include "sandbox/config.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace tandem::sandbox {

SandboxConfig default_config() {
  SandboxConfig c;
  PortalConfig p;
  p.id = 12345678;
  p.domain = "sandbox.tandem.local";
  p.teams = {{"101", "Inbound Sales"}, {"102", "Enterprise Sales"}};
  p.owners = {
      {"201", "maria.manager@sandbox.example.com", "Maria", "Manager", 9001, "PERSON", false, {"101"}},
      {"202", "rick.rep@sandbox.example.com", "Rick", "Rep", 9002, "PERSON", false, {"101"}},
      {"203", "rita.rep@sandbox.example.com", "Rita", "Rep", 9003, "PERSON", false, {"102", "101"}},
      {"204", "sam.solo@sandbox.example.com", "Sam", "Solo", 9004, "PERSON", false, {}},
      {"205", "olga.former@sandbox.example.com", "Olga", "Former", 9005, "PERSON", true, {}},
  };
  c.portals.push_back(p);
  c.app.id = 4242;
  c.app.client_id = "5f0c8a52-7d1e-4c3b-9a0e-2c6d1b7e9f10";
  c.app.client_secret = "sandbox-secret-7c1e9b2a-4d3f-4e8a-b6c5-0f1e2d3c4b5a";
  c.app.redirect_urls = {"http://localhost:3000/oauth/callback", "http://localhost:8080/oauth/callback"};
  c.app.required_scopes = {"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read"};
  c.app.optional_scopes = {"settings.users.teams.read", "crm.objects.companies.read"};
  c.app.webhook_target_url = "http://127.0.0.1:8080/webhooks/hubspot";
  c.app.max_concurrent_requests = 10;
  c.app.subscriptions = {
      {1001, "contact.creation", "", true},
      {1002, "contact.propertyChange", "lifecyclestage", true},
      {1003, "contact.propertyChange", "hs_lead_status", true},
      {1004, "contact.propertyChange", "hubspot_owner_id", true},
      {1005, "contact.propertyChange", "email", true},
      {1006, "contact.deletion", "", true},
  };
  return c;
}

namespace {

class Reader {
 public:
  Reader(std::string file, const std::string& text, Diagnostics& d) : file_(std::move(file)), text_(text), d_(d) {}

  void error(const YAML::Node& n, const std::string& message) {
    auto m = n.Mark();
    int line = m.line >= 0 ? m.line + 1 : 0;
    int col = m.column >= 0 ? m.column + 1 : 0;
    d_.error(file_, line, col, message, line > 0 ? source_line_of(text_, line) : std::string{});
  }

  // Calls fn(key, value) for every key; unknown keys are reported with a suggestion.
  void map(const YAML::Node& node, const std::string& path, const std::vector<std::string>& keys,
           const std::function<void(const std::string&, const YAML::Node&, const std::string&)>& fn) {
    if (!node.IsMap()) {
      error(node, path + ": expected a mapping");
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.as<std::string>();
      std::string sub = path.empty() ? key : path + "." + key;
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string msg = "unknown key '" + sub + "'";
        auto near = nearest_match(key, keys);
        if (!near.empty()) msg += "; did you mean '" + near + "'?";
        error(it->first, msg);
        continue;
      }
      fn(key, it->second, sub);
    }
  }

  void seq(const YAML::Node& node, const std::string& path, const std::function<void(const YAML::Node&, const std::string&)>& fn) {
    if (!node.IsSequence()) {
      error(node, path + ": expected a list");
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) fn(node[i], path + "[" + std::to_string(i) + "]");
  }

  template <typename T>
  void scalar(const YAML::Node& node, const std::string& path, T& out) {
    if (!node.IsScalar()) {
      error(node, path + ": expected a scalar");
      return;
    }
    try {
      out = node.as<T>();
    } catch (const YAML::Exception&) {
      error(node, path + ": invalid value '" + node.Scalar() + "'");
    }
  }

  void strings(const YAML::Node& node, const std::string& path, std::vector<std::string>& out) {
    out.clear();
    seq(node, path, [&](const YAML::Node& n, const std::string& p) {
      std::string s;
      scalar(n, p, s);
      out.push_back(s);
    });
  }

  void ints(const YAML::Node& node, const std::string& path, std::vector<int>& out) {
    out.clear();
    seq(node, path, [&](const YAML::Node& n, const std::string& p) {
      int v = 0;
      scalar(n, p, v);
      out.push_back(v);
    });
  }

  template <typename T>
  void range(const YAML::Node& node, const std::string& path, T& out, T lo, T hi) {
    scalar(node, path, out);
    if (out < lo || out > hi) error(node, path + ": must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }

  void one_of(const YAML::Node& node, const std::string& path, std::string& out, const std::vector<std::string>& allowed) {
    scalar(node, path, out);
    if (std::find(allowed.begin(), allowed.end(), out) == allowed.end()) {
      std::string msg = path + ": '" + out + "' is not one of";
      for (const auto& a : allowed) msg += " " + a;
      auto near = nearest_match(out, allowed);
      if (!near.empty()) msg += "; did you mean '" + near + "'?";
      error(node, msg);
    }
  }

 private:
  std::string file_;
  const std::string& text_;
  Diagnostics& d_;
};

void read_portal(Reader& r, const YAML::Node& node, const std::string& path, PortalConfig& p) {
  r.map(node, path, {"id", "domain", "timeZone", "teams", "owners", "properties"},
        [&](const std::string& k, const YAML::Node& v, const std::string& sub) {
          if (k == "id") r.range<std::int64_t>(v, sub, p.id, 1, 2'147'483'647);
          else if (k == "domain") r.scalar(v, sub, p.domain);
          else if (k == "timeZone") r.scalar(v, sub, p.time_zone);
          else if (k == "teams") {
            p.teams.clear();
            r.seq(v, sub, [&](const YAML::Node& t, const std::string& tp) {
              TeamConfig team;
              r.map(t, tp, {"id", "name"}, [&](const std::string& tk, const YAML::Node& tv, const std::string& ts) {
                if (tk == "id") r.scalar(tv, ts, team.id);
                else r.scalar(tv, ts, team.name);
              });
              p.teams.push_back(team);
            });
          } else if (k == "owners") {
            p.owners.clear();
            r.seq(v, sub, [&](const YAML::Node& o, const std::string& op) {
              OwnerConfig owner;
              r.map(o, op, {"id", "email", "firstName", "lastName", "userId", "type", "archived", "teams"},
                    [&](const std::string& ok, const YAML::Node& ov, const std::string& os) {
                      if (ok == "id") r.scalar(ov, os, owner.id);
                      else if (ok == "email") r.scalar(ov, os, owner.email);
                      else if (ok == "firstName") r.scalar(ov, os, owner.first_name);
                      else if (ok == "lastName") r.scalar(ov, os, owner.last_name);
                      else if (ok == "userId") r.scalar(ov, os, owner.user_id);
                      else if (ok == "type") r.one_of(ov, os, owner.type, {"PERSON", "QUEUE"});
                      else if (ok == "archived") r.scalar(ov, os, owner.archived);
                      else r.strings(ov, os, owner.team_ids);
                    });
              if (owner.id.empty()) r.error(o, op + ".id: required");
              p.owners.push_back(owner);
            });
          } else {
            p.properties.clear();
            r.seq(v, sub, [&](const YAML::Node& n, const std::string& np) {
              CustomPropertyConfig prop;
              r.map(n, np, {"objectType", "name", "label", "type", "options"},
                    [&](const std::string& pk, const YAML::Node& pv, const std::string& ps) {
                      if (pk == "objectType") r.one_of(pv, ps, prop.object_type, {"contacts", "tasks"});
                      else if (pk == "name") r.scalar(pv, ps, prop.name);
                      else if (pk == "label") r.scalar(pv, ps, prop.label);
                      else if (pk == "type")
                        r.one_of(pv, ps, prop.type, {"string", "number", "datetime", "date", "bool", "enumeration"});
                      else r.strings(pv, ps, prop.options);
                    });
              if (prop.name.empty()) r.error(n, np + ".name: required");
              p.properties.push_back(prop);
            });
          }
        });
  if (p.id == 0) r.error(node, path + ".id: required");
}

}  // namespace

SandboxConfig parse_config(const std::string& text, const std::string& file_name, Diagnostics& diagnostics) {
  SandboxConfig c = default_config();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    diagnostics.error(file_name, e.mark.line + 1, e.mark.column + 1, e.msg, source_line_of(text, e.mark.line + 1));
    return c;
  }
  if (root.IsNull()) return c;
  Reader r(file_name, text, diagnostics);
  r.map(root, "", {"portals", "app", "oauth", "limits", "webhookDelivery", "faults", "lifecycle", "randomSeed", "requestLogSize"},
        [&](const std::string& k, const YAML::Node& v, const std::string& sub) {
          if (k == "portals") {
            c.portals.clear();
            r.seq(v, sub, [&](const YAML::Node& n, const std::string& p) {
              PortalConfig portal;
              read_portal(r, n, p, portal);
              c.portals.push_back(portal);
            });
            if (c.portals.empty()) r.error(v, "portals: at least one portal is required");
          } else if (k == "app") {
            auto& a = c.app;
            r.map(v, sub,
                  {"id", "clientId", "clientSecret", "redirectUrls", "requiredScopes", "optionalScopes", "webhooks"},
                  [&](const std::string& ak, const YAML::Node& av, const std::string& as) {
                    if (ak == "id") r.range<std::int64_t>(av, as, a.id, 1, 2'147'483'647);
                    else if (ak == "clientId") r.scalar(av, as, a.client_id);
                    else if (ak == "clientSecret") r.scalar(av, as, a.client_secret);
                    else if (ak == "redirectUrls") r.strings(av, as, a.redirect_urls);
                    else if (ak == "requiredScopes") r.strings(av, as, a.required_scopes);
                    else if (ak == "optionalScopes") r.strings(av, as, a.optional_scopes);
                    else {
                      r.map(av, as, {"targetUrl", "maxConcurrentRequests", "subscriptions"},
                            [&](const std::string& wk, const YAML::Node& wv, const std::string& ws) {
                              if (wk == "targetUrl") r.scalar(wv, ws, a.webhook_target_url);
                              else if (wk == "maxConcurrentRequests") r.range(wv, ws, a.max_concurrent_requests, 1, 1000);
                              else {
                                a.subscriptions.clear();
                                std::int64_t next_id = 1001;
                                r.seq(wv, ws, [&](const YAML::Node& sn, const std::string& sp) {
                                  SubscriptionConfig s;
                                  s.id = next_id++;
                                  r.map(sn, sp, {"id", "subscriptionType", "propertyName", "active"},
                                        [&](const std::string& sk, const YAML::Node& sv, const std::string& ss) {
                                          if (sk == "id") r.scalar(sv, ss, s.id);
                                          else if (sk == "subscriptionType")
                                            r.one_of(sv, ss, s.subscription_type,
                                                     {"contact.creation", "contact.propertyChange", "contact.deletion",
                                                      "object.creation", "object.propertyChange", "object.deletion"});
                                          else if (sk == "propertyName") r.scalar(sv, ss, s.property_name);
                                          else r.scalar(sv, ss, s.active);
                                        });
                                  bool change = s.subscription_type.ends_with("propertyChange");
                                  if (change && s.property_name.empty()) r.error(sn, sp + ".propertyName: required for propertyChange");
                                  if (!change && !s.property_name.empty()) r.error(sn, sp + ".propertyName: only for propertyChange");
                                  a.subscriptions.push_back(s);
                                });
                              }
                            });
                    }
                  });
          } else if (k == "oauth") {
            r.map(v, sub, {"accessTokenTtlSeconds", "codeTtlSeconds", "userId", "userEmail"},
                  [&](const std::string& ok, const YAML::Node& ov, const std::string& os) {
                    if (ok == "accessTokenTtlSeconds") r.range<std::int64_t>(ov, os, c.oauth.access_token_ttl_s, 1, 86'400 * 365);
                    else if (ok == "codeTtlSeconds") r.range<std::int64_t>(ov, os, c.oauth.code_ttl_s, 1, 86'400);
                    else if (ok == "userId") r.scalar(ov, os, c.oauth.user_id);
                    else r.scalar(ov, os, c.oauth.user_email);
                  });
          } else if (k == "limits") {
            auto& l = c.limits;
            r.map(v, sub, {"tenSecondly", "searchPerSecond", "batchMax", "searchMaxLimit", "searchResultCap", "searchMaxBodyChars"},
                  [&](const std::string& lk, const YAML::Node& lv, const std::string& ls) {
                    if (lk == "tenSecondly") r.range(lv, ls, l.ten_secondly, 1, 10'000'000);
                    else if (lk == "searchPerSecond") r.range(lv, ls, l.search_per_second, 1, 10'000'000);
                    else if (lk == "batchMax") r.range(lv, ls, l.batch_max, 1, 100'000);
                    else if (lk == "searchMaxLimit") r.range(lv, ls, l.search_max_limit, 1, 100'000);
                    else if (lk == "searchResultCap") r.range(lv, ls, l.search_result_cap, 1, 100'000'000);
                    else r.range<std::size_t>(lv, ls, l.search_max_body, 1, 100'000'000);
                  });
          } else if (k == "webhookDelivery") {
            auto& d = c.delivery;
            r.map(v, sub, {"timeoutMs", "maxRetries", "timeFactor", "duplicateProbability", "outOfOrderProbability", "maxEventsPerRequest"},
                  [&](const std::string& dk, const YAML::Node& dv, const std::string& ds) {
                    if (dk == "timeoutMs") r.range(dv, ds, d.timeout_ms, 1, 600'000);
                    else if (dk == "maxRetries") r.range(dv, ds, d.max_retries, 0, 100);
                    else if (dk == "timeFactor") r.range(dv, ds, d.time_factor, 0.0, 1000.0);
                    else if (dk == "duplicateProbability") r.range(dv, ds, d.duplicate_probability, 0.0, 1.0);
                    else if (dk == "outOfOrderProbability") r.range(dv, ds, d.out_of_order_probability, 0.0, 1.0);
                    else r.range(dv, ds, d.max_events_per_request, 1, 100);
                  });
          } else if (k == "faults") {
            c.faults.clear();
            r.seq(v, sub, [&](const YAML::Node& fn, const std::string& fp) {
              FaultRuleConfig f;
              r.map(fn, fp, {"method", "path", "latencyMs", "errorRate", "errorStatuses", "burst429", "resetRate", "resetWhen"},
                    [&](const std::string& fk, const YAML::Node& fv, const std::string& fs) {
                      if (fk == "method") r.scalar(fv, fs, f.method);
                      else if (fk == "path") r.scalar(fv, fs, f.path);
                      else if (fk == "latencyMs") r.range(fv, fs, f.latency_ms, 0, 600'000);
                      else if (fk == "errorRate") r.range(fv, fs, f.error_rate, 0.0, 1.0);
                      else if (fk == "errorStatuses") r.ints(fv, fs, f.error_statuses);
                      else if (fk == "burst429") r.range(fv, fs, f.burst_429, 0, 1'000'000);
                      else if (fk == "resetRate") r.range(fv, fs, f.reset_rate, 0.0, 1.0);
                      else r.one_of(fv, fs, f.reset_when, {"before", "after"});
                    });
              c.faults.push_back(f);
            });
          } else if (k == "lifecycle") {
            r.map(v, sub, {"backwards", "defaultStage"}, [&](const std::string& lk, const YAML::Node& lv, const std::string& ls) {
              if (lk == "backwards") r.one_of(lv, ls, c.lifecycle_backwards, {"ignore", "reject"});
              else r.scalar(lv, ls, c.default_lifecycle_stage);
            });
          } else if (k == "randomSeed") {
            r.scalar(v, sub, c.random_seed);
          } else {
            r.range<std::size_t>(v, sub, c.request_log_size, 1, 10'000'000);
          }
        });
  if (c.app.client_id.empty()) diagnostics.error(file_name, 0, 0, "app.clientId: must not be empty");
  if (c.app.client_secret.empty()) diagnostics.error(file_name, 0, 0, "app.clientSecret: must not be empty");
  if (c.app.redirect_urls.empty()) diagnostics.error(file_name, 0, 0, "app.redirectUrls: at least one is required");
  return c;
}

SandboxConfig load_config_file(const std::string& path, Diagnostics& diagnostics) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diagnostics.error(path, 0, 0, "cannot read the file");
    return default_config();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path, diagnostics);
}

}  // namespace tandem::sandbox
