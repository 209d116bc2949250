// Environments, secrets and the production window of a plan.

#include "common/plan/plan_env.h"

#include <date/tz.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/core/redact.h"

namespace sluice {

namespace {

constexpr std::string_view kEnvPrefix = "${env:";
constexpr std::string_view kFilePrefix = "${file:";

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

Result<std::string> ResolveSecrets(const std::string& text, const std::string& base_dir,
                                   std::vector<std::string>* secrets) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t at = text.find("${", pos);
    if (at == std::string::npos) break;
    const bool env = text.compare(at, kEnvPrefix.size(), kEnvPrefix) == 0;
    const bool file = text.compare(at, kFilePrefix.size(), kFilePrefix) == 0;
    if (!env && !file) {
      out.append(text, pos, at + 2 - pos);
      pos = at + 2;
      continue;
    }
    const size_t name_at = at + (env ? kEnvPrefix.size() : kFilePrefix.size());
    const size_t close = text.find('}', name_at);
    if (close == std::string::npos) {
      return Status::InvalidArgument("secret reference '" + text.substr(at, name_at - at) +
                                     "...' has no closing '}'");
    }
    const std::string name = text.substr(name_at, close - name_at);
    const std::string ref = text.substr(at, close + 1 - at);
    if (name.empty()) return Status::InvalidArgument("secret " + ref + ": empty name");
    std::string value;
    if (env) {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) {
        return Status::NotFound("secret " + ref + ": environment variable " + name + " is not set");
      }
      value = v;
    } else {
      std::filesystem::path p(name);
      if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
      std::optional<std::string> read = ReadWholeFile(p.lexically_normal().string());
      if (!read) {
        return Status::NotFound("secret " + ref + ": cannot read " + p.lexically_normal().string());
      }
      value = std::move(*read);
      if (!value.empty() && value.back() == '\n') value.pop_back();
      if (!value.empty() && value.back() == '\r') value.pop_back();
    }
    if (secrets != nullptr && !value.empty()) secrets->push_back(value);
    out.append(text, pos, at - pos);
    out += value;
    pos = close + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::string RedactSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 3)) {
      text.replace(at, s.size(), "***");
    }
  }
  return Redact(std::move(text));
}

}  // namespace sluice

namespace sluice::plan_yaml {

const std::vector<std::string_view> kOverridableKeys = {
    "name",  "version",    "batch_size", "state_dir", "model",  "sources", "mappings",
    "dedup", "validation", "target",     "waves",     "window", "pii"};

namespace {

// `overlay` merged over `base` (at `path` of the plan): mappings key by key,
// anything else replaced. The paths whose value comes from `overlay` go to
// `overridden`, so that a mistake there is reported where it was written.
YAML::Node Merge(const YAML::Node& base, const YAML::Node& overlay, const std::string& path,
                 std::set<std::string>* overridden) {
  if (!base.IsMap() || !overlay.IsMap()) {
    overridden->insert(path);
    return YAML::Clone(overlay);
  }
  YAML::Node out = YAML::Clone(base);
  for (const auto& kv : overlay) {
    if (!kv.first.IsScalar()) continue;
    const std::string& key = kv.first.Scalar();
    YAML::Node existing = Get(out, key);
    if (existing.IsDefined()) {
      out[key] = Merge(existing, kv.second, Child(path, key), overridden);
    } else {
      overridden->insert(Child(path, key));
      out[key] = YAML::Clone(kv.second);
    }
  }
  return out;
}

// Secrets belong in the settings of sources and the target (a dsn, a path,
// a query) and in the PII key, which are never stored or printed. Anywhere else the value would
// end up in clear in the audit store, a report or the target (a run's `name`
// is listed by `sluice runs`), so a secret there is refused.
bool SecretAllowedAt(const std::string& path) {
  if (path.rfind("target.", 0) == 0 || path == "pii.key") return true;
  if (path.rfind("sources.", 0) != 0) return false;
  return path.find('.', std::string_view("sources.").size()) != std::string::npos;
}

// "03:00" -> 180; -1 when malformed.
int ParseClock(const std::string& text) {
  int h = 0, m = 0;
  char tail = 0;
  if (text.size() < 4 || std::sscanf(text.c_str(), "%d:%d%c", &h, &m, &tail) != 2) return -1;
  if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

}  // namespace

YAML::Node ApplyEnvironment(const YAML::Node& root, const std::string& environment,
                            PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  YAML::Node envs = Get(root, "environments");
  YAML::Node chosen(YAML::NodeType::Undefined);
  if (envs.IsDefined() && ExpectMap(envs, "environments", issues)) {
    for (const auto& kv : envs) {
      if (!kv.first.IsScalar()) {
        AddIssue(issues, "environments", "keys must be text");
        continue;
      }
      const std::string& name = kv.first.Scalar();
      const std::string path = Child("environments", name);
      ctx->plan->environment_names.push_back(name);
      if (!IsPlainName(name)) {
        AddIssue(issues, path,
                 "not a valid environment name (letters, digits and '_', not starting with a "
                 "digit)");
      }
      if (kv.second.IsNull()) continue;  // an environment that changes nothing
      if (!ExpectMap(kv.second, path, issues)) continue;
      CheckKeys(kv.second, path, kOverridableKeys, issues);
      if (name == environment) chosen = kv.second;
    }
  }
  if (environment.empty()) return root;
  ctx->plan->environment = environment;
  bool known = false;
  for (const std::string& n : ctx->plan->environment_names) known = known || n == environment;
  if (!known) {
    std::string names;
    for (const std::string& n : ctx->plan->environment_names) {
      names += (names.empty() ? "" : ", ") + n;
    }
    AddIssue(issues, "environments",
             "unknown environment '" + environment + "'" +
                 (names.empty() ? " (the plan defines none)" : " (defined: " + names + ")"));
    return root;
  }
  YAML::Node merged(YAML::NodeType::Map);
  for (const auto& kv : root) {
    if (kv.first.IsScalar() && kv.first.Scalar() == "environments") continue;
    merged[kv.first] = YAML::Clone(kv.second);
  }
  if (chosen.IsDefined() && chosen.IsMap()) {
    for (const auto& kv : chosen) {
      if (!kv.first.IsScalar()) continue;
      const std::string& key = kv.first.Scalar();
      YAML::Node existing = Get(merged, key);
      if (existing.IsDefined()) {
        merged[key] = Merge(existing, kv.second, key, &ctx->overridden);
      } else {
        ctx->overridden.insert(key);
        merged[key] = YAML::Clone(kv.second);
      }
    }
  }
  return merged;
}

void ResolveNodeSecrets(YAML::Node node, const std::string& path, const std::string& base_dir,
                        PlanContext* ctx) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find("${") == std::string::npos) return;
    std::vector<std::string> secrets;
    Result<std::string> resolved = ResolveSecrets(text, base_dir, &secrets);
    const bool malformed =
        !resolved.ok() && resolved.status().code() == StatusCode::kInvalidArgument;
    if (!malformed && (!resolved.ok() || !secrets.empty()) && !SecretAllowedAt(path)) {
      AddIssue(ctx->issues, path,
               "a secret (${env:...}, ${file:...}) is allowed only in the settings of a source "
               "or the target and in pii.key, which are never stored or printed");
      return;
    }
    for (std::string& secret : secrets) {
      RegisterSecret(secret);
      ctx->plan->secret_values.push_back(std::move(secret));
    }
    if (!resolved.ok()) {
      // A secret missing on this machine (not a malformed reference) is a
      // note when only checking: the run's machine may have it.
      if (ctx->secret_notes != nullptr && resolved.status().code() == StatusCode::kNotFound) {
        AddIssue(ctx->secret_notes, path, resolved.status().message());
        return;
      }
      AddIssue(ctx->issues, path, resolved.status().message());
      return;
    }
    node = *resolved;
    return;
  }
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      ResolveNodeSecrets(node[i], Item(path, i), base_dir, ctx);
    }
    return;
  }
  if (node.IsMap()) {
    for (auto kv : node) {
      if (!kv.first.IsScalar()) continue;
      // The environments not chosen are not resolved: their secrets may be
      // missing here, and they are not used.
      if (path.empty() && kv.first.Scalar() == "environments") continue;
      ResolveNodeSecrets(kv.second, Child(path, kv.first.Scalar()), base_dir, ctx);
    }
  }
}

void ParseWindow(const YAML::Node& root, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  YAML::Node node = Get(root, "window");
  if (!node.IsDefined()) return;
  if (!ExpectMap(node, "window", issues)) return;
  CheckKeys(node, "window", {"start", "end", "tz"}, issues);
  WindowSpec w;
  bool ok = true;
  for (const char* key : {"start", "end"}) {
    auto text = ReadText(node, key, "window", Need::kRequired, issues);
    if (!text) {
      ok = false;
      continue;
    }
    const int minute = ParseClock(*text);
    if (minute < 0) {
      AddIssue(issues, Child("window", key), "must be a time of day HH:MM, got '" + *text + "'");
      ok = false;
      continue;
    }
    (std::string_view(key) == "start" ? w.start_minute : w.end_minute) = minute;
    (std::string_view(key) == "start" ? w.start_text : w.end_text) = *text;
  }
  if (ok && w.start_minute == w.end_minute) {
    AddIssue(issues, "window", "start and end are equal: the window would be empty");
    ok = false;
  }
  if (auto tz = ReadText(node, "tz", "window", Need::kOptional, issues)) {
    w.tz = *tz;
    try {
      (void)date::locate_zone(w.tz);
    } catch (const std::exception&) {
      AddIssue(issues, "window.tz",
               "unknown time zone '" + w.tz +
                   "' (an IANA name such as "
                   "America/New_York, or UTC)");
      ok = false;
    }
  }
  if (ok) ctx->plan->window = w;
}

}  // namespace sluice::plan_yaml
