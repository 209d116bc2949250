// Incremental dedup (issue 18 item 3, docs/incremental_dedup.md): the
// population's blocking index in the audit store, per run, and the residents
// a delta run reads by key. A run's rows count once its wave completed
// (run_waves, written when the wave reconciles), until the run is rolled
// back, and only under the blocking they were made with; a record's blocks
// are those of the latest run that counts and took it in. The store works on
// a connection of its own to the audit store's file (the coordinator's, the
// only writer). The blocks of ingest commits are held and written together
// (Flush): one transaction per ingest commit rewrote most pages of the
// blocks' B-trees each time (bench/README.md, "delta_sync --dedup").
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/audit/sqlite_util.h"
#include "common/core/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

class PopulationStore {
 public:
  // Opens the audit store at `path` (AuditStore::Open made it) and creates
  // the population tables when missing.
  static Result<std::unique_ptr<PopulationStore>> Open(const std::string& path);

  // Notes that `run_id` takes in `entity` in `wave` with blocks made under
  // `spec` (PopulationSpec), reading its sources whole or not.
  Status RecordPopulationRun(const std::string& run_id, int wave, const std::string& entity,
                             const std::string& spec, bool whole);
  // Stores the population blocks of a dedup_ingest commit as the run's (a row per record and rule;
  // a record without blocks has one of rule "", so that every record the run took in is known).
  // Idempotent. Held until Flush, or until kFlushRows rows are held.
  // ResidentsOf reads the run's held blocks where they are; the coordinator
  // flushes once it has leased the residents, and before an entity's ledger
  // is written: a coordinator that dies with rows held left its entity
  // unfinished, so a resume takes it in again.
  Status RecordPopulation(const std::string& run_id, int wave, const v1::Commit& commit);
  // Writes the held blocks in one transaction, sorted by the table's key.
  Status Flush();
  static constexpr size_t kFlushRows = 250000;
  // Whether a run other than `run_id` that counts read `entity` whole under
  // `spec`: its population is complete, a delta run may read by key.
  Result<bool> HasPopulation(const std::string& entity, const std::string& spec,
                             const std::string& run_id);
  // What the delta of `entity` that `run_id` took in during `wave` must be
  // resolved with, by source (keys sorted): the members of its blocks (as
  // each record's latest counted population under `spec` has it), and every
  // member of the current clusters (survivor chains of the latest fates, runs
  // not rolled back) of those members, of the delta's records, of `also`
  // (keys, by source, whose clusters must be decided again: deleted at the
  // source), and of the (source, key) of `held` whose latest fate is review
  // (a steward decided them since: they are read again and the decision
  // applies). The delta's own keys and those of `also` are left out. The
  // delta's blocks may still be held (they are not written by this); held
  // blocks of any other run, wave or entity are written first.
  Result<std::map<std::string, std::vector<std::string>>> ResidentsOf(
      const std::string& run_id, int wave, const std::string& entity, const std::string& spec,
      const std::map<std::string, std::vector<std::string>>& also = {},
      const std::vector<std::pair<std::string, std::string>>& held = {});
  // Forgets what `run_id` stored of `entity` in `wave` (taken in again).
  Status ForgetPopulation(const std::string& run_id, int wave, const std::string& entity);

 private:
  explicit PopulationStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  struct HeldBlock {
    std::string entity, rule;
    int64_t block = 0;
    std::string source, key, run_id;
    int wave = 0;
    bool operator<(const HeldBlock& o) const {
      return std::tie(entity, rule, block, source, key, run_id) <
             std::tie(o.entity, o.rule, o.block, o.source, o.key, o.run_id);
    }
  };

  std::unique_ptr<SqliteDb> db_;
  std::vector<HeldBlock> held_;  // RecordPopulation, until Flush
  bool packed_ = true;           // the store has loaded_packs (audit_loaded.cc)
};

}  // namespace sluice
