#include "reconciler/survivor_check.h"

#include <algorithm>
#include <unordered_map>

namespace sluice {

std::string FateKey(std::string_view source, std::string_view key) {
  std::string k;
  k.reserve(source.size() + key.size() + 1);
  k.append(source);
  k.push_back('\x1f');
  k.append(key);
  return k;
}

namespace {

// Where a merged record's chain ends: its loaded survivor (id), or why not.
struct Resolution {
  std::string survivor;  // FateKey of the last survivor reached
  int64_t target_id = 0;
  std::string failure;  // empty: reached a LOADED fate
};

Resolution Follow(const MergedLink& link, const std::map<std::string, RecordFate>& fates) {
  Resolution r;
  std::string at = FateKey(link.survivor_source, link.survivor_key);
  for (size_t hops = 0; hops <= fates.size(); ++hops) {
    r.survivor = at;
    auto it = fates.find(at);
    if (it == fates.end()) {
      r.failure = "survivor has no fate in the wave";
      return r;
    }
    const RecordFate& f = it->second;
    if (f.kind == "loaded") {
      r.target_id = f.target_id;
      return r;
    }
    if (f.kind != "merged") {
      r.failure = "survivor " + std::string(f.kind == "review" ? "held for review" : f.kind) +
                  (f.rule.empty() ? "" : " by " + f.rule);
      return r;
    }
    at = FateKey(f.survivor_source, f.survivor_key);
  }
  r.failure = "survivor chain loops";
  return r;
}

std::string Shown(const std::string& fate_key) {
  std::string s = fate_key;
  std::replace(s.begin(), s.end(), '\x1f', '/');
  return s;
}

}  // namespace

Result<SurvivorCheck> CheckSurvivors(const Entity& entity, const std::vector<MergedLink>& merged,
                                     const std::map<std::string, RecordFate>& fates,
                                     Target* target) {
  SurvivorCheck check;
  if (merged.empty()) return check;
  check.checked = true;
  std::vector<Resolution> resolved;
  resolved.reserve(merged.size());
  // What the target must hold: per key, the target id its entry must name
  // (a survivor's own entry, or a merged key's entry pointing at it).
  std::unordered_map<std::string, int64_t> wanted;
  for (const MergedLink& link : merged) {
    Resolution r = Follow(link, fates);
    if (r.failure.empty()) {
      wanted.emplace(r.survivor, r.target_id);
      wanted.emplace(FateKey(link.source, link.key), r.target_id);
    }
    resolved.push_back(std::move(r));
  }
  // Found in the target: the entry's target id, and whether its row exists.
  struct Entry {
    int64_t target_id = 0;
    bool row = false;
    bool merged = false;
  };
  // Looked up, not scanned: the merged keys and their survivors are a few
  // of the table's entries (a second scan of the whole target was half the
  // reconciler's CPU at 1M rows, 0.5% of them merged).
  std::vector<SourceKey> keys;
  keys.reserve(wanted.size());
  for (const auto& [k, id] : wanted) {
    const size_t cut = k.find('\x1f');
    keys.push_back({k.substr(0, cut), k.substr(cut + 1)});
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<TargetEntry> entries, target->LookupEntries(entity, keys));
  std::unordered_map<std::string, Entry> found;
  for (const TargetEntry& e : entries) {
    found[FateKey(e.source, e.key)] = {e.target_id, e.row, e.merged};
  }

  std::vector<std::string> failures;
  for (size_t i = 0; i < merged.size(); ++i) {
    const MergedLink& link = merged[i];
    Resolution& r = resolved[i];
    if (r.failure.empty()) {
      auto s = found.find(r.survivor);
      auto m = found.find(FateKey(link.source, link.key));
      if (s == found.end() || s->second.merged || !s->second.row) {
        r.failure = "survivor " + Shown(r.survivor) + " has no row in the target";
      } else if (s->second.target_id != r.target_id) {
        r.failure = "survivor's row is " + std::to_string(s->second.target_id) +
                    ", its loaded fate says " + std::to_string(r.target_id);
      } else if (m == found.end() || !m->second.merged) {
        r.failure = "no cross-reference entry maps the merged key to its survivor";
      } else if (m->second.target_id != r.target_id) {
        r.failure = "the merged key's entry points at row " + std::to_string(m->second.target_id) +
                    ", the survivor's is " + std::to_string(r.target_id);
      }
    }
    SurvivorCheck::Counts& counts = check.by_source[link.source];
    ++counts.merged;
    ++check.merged;
    if (r.failure.empty()) continue;
    ++counts.unresolved;
    ++check.unresolved;
    failures.push_back(link.source + "/" + link.key + " -> " + Shown(r.survivor) + ": " +
                       r.failure);
  }
  std::sort(failures.begin(), failures.end());
  if (failures.size() > 20) failures.resize(20);
  check.examples = std::move(failures);
  return check;
}

}  // namespace sluice
