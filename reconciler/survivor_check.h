// The survivor check (invariant 6): every record of a wave whose fate is
// MERGED resolves, through its chain of survivors, to a record loaded in the
// same run whose row the target holds, and the merged key's
// cross-reference entry points at that row. A merged record whose survivor
// was rejected or held has no row: a person would vanish silently.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/plan/plan.h"

namespace sluice {

// One MERGED fate: (source, key) merged into (survivor_source, survivor_key).
struct MergedLink {
  std::string source, key;
  std::string survivor_source, survivor_key;
};

// What the audit store says of one record of the wave that the chain may
// reach: its terminal kind ("loaded", "merged", "rejected", "review") and,
// when loaded, its target id; when merged, its survivor.
struct RecordFate {
  std::string kind;
  std::string rule;  // of a rejection or hold, for the report
  int64_t target_id = 0;
  std::string survivor_source, survivor_key;
};

struct SurvivorCheck {
  bool checked = false;  // the entity has merged records in the wave
  struct Counts {
    uint64_t merged = 0;      // MERGED fates of the source
    uint64_t unresolved = 0;  // of which reach no loaded row
  };
  std::map<std::string, Counts> by_source;
  uint64_t merged = 0;
  uint64_t unresolved = 0;
  // Up to 20, the smallest by (source, key): "fr/FR001 -> us/US01: survivor
  // rejected by last_name_required".
  std::vector<std::string> examples;
  bool passed() const { return unresolved == 0; }
  // "PASS", "FAIL" or "n/a" (nothing merged).
  std::string Verdict() const { return !checked ? "n/a" : passed() ? "PASS" : "FAIL"; }
};

// Follows each of `merged` to its final survivor through `fates` (keyed by
// "source\x1fkey"; a chain longer than the records, a cycle, is unresolved),
// then reads the entity's cross-reference and rows from `target`: the
// survivor's own entry must point at a row with the target id its LOADED
// fate recorded, and the merged key's entry at the same row. Fails only
// when the target cannot be read.
Result<SurvivorCheck> CheckSurvivors(const Entity& entity, const std::vector<MergedLink>& merged,
                                     const std::map<std::string, RecordFate>& fates,
                                     Target* target);

// The key of `fates`: "source\x1fkey".
std::string FateKey(std::string_view source, std::string_view key);

}  // namespace sluice
