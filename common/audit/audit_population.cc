#include "common/audit/audit_population.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <set>

namespace sluice {
namespace {

using Key = std::pair<std::string, std::string>;                 // source, key
using Block = std::pair<std::string, int64_t>;                   // rule, block key
using RunWave = std::pair<std::string, int64_t>;                 // run, wave
using Counted = std::map<RunWave, std::pair<int64_t, int64_t>>;  // -> started_ms, rowid

// The (run, wave) pairs whose population of `entity` counts: their wave
// completed, they are not rolled back, not `run_id`, and their blocks were
// made under `spec`. `*whole`: one of them read the entity whole.
Result<Counted> CountedRuns(SqliteDb* db, const std::string& run_id, const std::string& entity,
                            const std::string& spec, bool* whole = nullptr) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db->Prepare("SELECT w.run_id, w.wave, r.started_ms, r.rowid, p.whole"
                           " FROM run_waves AS w JOIN runs AS r ON r.run_id = w.run_id"
                           " JOIN population_runs AS p ON p.run_id = w.run_id AND p.wave = w.wave"
                           " WHERE w.status='completed' AND r.status<>'rolled_back'"
                           " AND w.run_id<>?1 AND p.entity=?2 AND p.spec=?3"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, spec));
  Counted out;
  if (whole != nullptr) *whole = false;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out[{std::string(st.ColumnText(0)), st.ColumnInt64(1)}] = {st.ColumnInt64(2),
                                                               st.ColumnInt64(3)};
    if (whole != nullptr && st.ColumnInt64(4) != 0) *whole = true;
  }
  return out;
}

// Reads a record's latest counted blocks and its latest fate, with the
// statements prepared once.
class PopulationReader {
 public:
  static Result<PopulationReader> Open(SqliteDb* db, const std::string& entity, Counted counted,
                                       bool packed) {
    PopulationReader r;
    r.entity_ = entity;
    r.counted_ = std::move(counted);
    r.packed_ = packed;
    SLUICE_ASSIGN_OR_RETURN(
        r.blocks_, db->Prepare("SELECT rule, block_key, run_id, wave FROM population_blocks"
                               " INDEXED BY population_by_key"
                               " WHERE entity=?1 AND source=?2 AND key=?3"));
    SLUICE_ASSIGN_OR_RETURN(
        r.fate_, db->Prepare("SELECT f.kind, f.survivor_source, f.survivor_key, r.started_ms,"
                             " f.rowid FROM fates AS f INDEXED BY fates_by_key"
                             " JOIN runs AS r ON r.run_id = f.run_id"
                             " WHERE f.entity=?1 AND f.source=?2 AND f.key=?3"
                             " AND r.status<>'rolled_back' AND f.kind<>'warning'"
                             " AND f.stage<>'steward'"
                             " ORDER BY r.started_ms DESC, f.rowid DESC LIMIT 1"));
    if (packed) {
      SLUICE_ASSIGN_OR_RETURN(
          r.pack_, db->Prepare("SELECT r.started_ms, p.after_fate FROM loaded_keys AS k"
                               " JOIN loaded_packs AS p ON p.pack = k.pack"
                               " JOIN runs AS r ON r.run_id = p.run_id"
                               " WHERE k.entity=?1 AND k.source=?2 AND k.key=?3"
                               " AND r.status<>'rolled_back'"
                               " ORDER BY r.started_ms DESC, p.after_fate DESC LIMIT 1"));
    }
    SLUICE_ASSIGN_OR_RETURN(r.members_,
                            // Without INDEXED BY, SQLite (no statistics) took
                            // fates_by_key on the entity alone: every fate of the
                            // entity walked for each survivor (20 s at 1M).
                            db->Prepare("SELECT DISTINCT f.source, f.key FROM fates AS f"
                                        " INDEXED BY fates_by_survivor"
                                        " JOIN runs AS r ON r.run_id = f.run_id"
                                        " WHERE f.entity=?1 AND f.survivor_source=?2"
                                        " AND f.survivor_key=?3 AND f.kind='merged'"
                                        " AND r.status<>'rolled_back'"));
    return r;
  }

  bool Counts(const RunWave& rw) const { return counted_.count(rw) > 0; }

  // The blocks of `k` in the latest counted run that took it in; empty when
  // none did.
  Result<std::set<Block>> LatestBlocks(const Key& k) {
    SLUICE_RETURN_IF_ERROR(Bind(blocks_, k));
    std::map<std::pair<int64_t, int64_t>, std::set<Block>> by_run;  // (started, rowid) -> blocks
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, blocks_.Step());
      if (!row) break;
      auto it = counted_.find({std::string(blocks_.ColumnText(2)), blocks_.ColumnInt64(3)});
      if (it == counted_.end()) continue;
      by_run[it->second].insert({std::string(blocks_.ColumnText(0)), blocks_.ColumnInt64(1)});
    }
    if (by_run.empty()) return std::set<Block>();
    return std::move(by_run.rbegin()->second);
  }

  // The kind of `k`'s latest fate ("" none) and, for a merge, its survivor.
  Result<std::pair<std::string, Key>> Latest(const Key& k) {
    SLUICE_RETURN_IF_ERROR(Bind(fate_, k));
    SLUICE_ASSIGN_OR_RETURN(bool fate, fate_.Step());
    std::pair<std::string, Key> out;
    int64_t started = 0, rowid = 0;
    if (fate) {
      out.first = fate_.ColumnText(0);
      out.second = {std::string(fate_.ColumnText(1)), std::string(fate_.ColumnText(2))};
      started = fate_.ColumnInt64(3);
      rowid = fate_.ColumnInt64(4);
    }
    if (packed_) {
      // A LOADED fate packed after it (audit_loaded.cc: a pack follows the
      // fates rows recorded before it) is the later one.
      SLUICE_RETURN_IF_ERROR(Bind(pack_, k));
      SLUICE_ASSIGN_OR_RETURN(bool pack, pack_.Step());
      if (pack && (!fate || std::make_pair(pack_.ColumnInt64(0), 2 * pack_.ColumnInt64(1) + 1) >
                                std::make_pair(started, 2 * rowid))) {
        return std::pair<std::string, Key>("loaded", Key());
      }
    }
    return out;
  }

  // The record `k`'s latest fate merges it into: nullopt when that fate is
  // no merge (or it has none).
  Result<std::optional<Key>> MergedInto(const Key& k) {
    SLUICE_ASSIGN_OR_RETURN(auto latest, Latest(k));
    if (latest.first != "merged") return std::optional<Key>();
    return std::optional<Key>(std::move(latest.second));
  }

  // The records whose latest fate merges them into `survivor`.
  Result<std::vector<Key>> MergedMembers(const Key& survivor) {
    SLUICE_RETURN_IF_ERROR(Bind(members_, survivor));
    std::vector<Key> candidates;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, members_.Step());
      if (!row) break;
      candidates.emplace_back(std::string(members_.ColumnText(0)),
                              std::string(members_.ColumnText(1)));
    }
    std::vector<Key> out;
    for (const Key& c : candidates) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<Key> into, MergedInto(c));
      if (into == survivor) out.push_back(c);
    }
    return out;
  }

 private:
  Status Bind(Statement& st, const Key& k) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.Bind(1, entity_));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, k.first));
    return st.Bind(3, k.second);
  }

  std::string entity_;
  Counted counted_;
  bool packed_ = true;
  Statement blocks_, fate_, pack_, members_;
};

}  // namespace

Result<std::unique_ptr<PopulationStore>> PopulationStore::Open(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path));
  std::unique_ptr<PopulationStore> store(new PopulationStore(std::move(db)));
  // As the audit store's own connection (audit_store.cc): the file is in WAL
  // mode, so NORMAL syncs at checkpoints, not at every commit; the page cache
  // holds the blocks' B-trees, which every ingest commit inserts into at random.
  SLUICE_RETURN_IF_ERROR(store->db_->Exec("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"));
  SLUICE_RETURN_IF_ERROR(store->db_->Exec(
      "CREATE TABLE IF NOT EXISTS population_blocks(entity TEXT, rule TEXT, block_key INTEGER,"
      " source TEXT, key TEXT, run_id TEXT, wave INTEGER,"
      " PRIMARY KEY(entity, rule, block_key, source, key, run_id)) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS population_by_key ON population_blocks(entity, source, key);"
      "CREATE INDEX IF NOT EXISTS population_by_run ON population_blocks(run_id, wave, entity);"
      "CREATE TABLE IF NOT EXISTS population_runs(run_id TEXT, wave INTEGER, entity TEXT,"
      " spec TEXT, whole INTEGER, PRIMARY KEY(run_id, wave, entity));"));
  SLUICE_ASSIGN_OR_RETURN(
      auto packs, store->db_->Prepare("SELECT 1 FROM sqlite_master WHERE name='loaded_packs'"));
  SLUICE_ASSIGN_OR_RETURN(store->packed_, packs.Step());
  return store;
}

Status PopulationStore::RecordPopulationRun(const std::string& run_id, int wave,
                                            const std::string& entity, const std::string& spec,
                                            bool whole) {
  SLUICE_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("INSERT OR REPLACE INTO population_runs VALUES(?1,?2,?3,?4,?5)"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
  SLUICE_RETURN_IF_ERROR(st.Bind(4, spec));
  SLUICE_RETURN_IF_ERROR(st.Bind(5, whole ? 1 : 0));
  return st.Run();
}

Status PopulationStore::RecordPopulation(const std::string& run_id, int wave,
                                         const v1::Commit& blocks) {
  const std::string& entity = blocks.batch().entity();
  for (const v1::PopulationBlock& b : blocks.population_blocks()) {
    held_.push_back(
        {entity, b.rule(), static_cast<int64_t>(b.block()), b.source(), b.key(), run_id, wave});
  }
  return held_.size() >= kFlushRows ? Flush() : Status::Ok();
}

Status PopulationStore::Flush() {
  if (held_.empty()) return Status::Ok();
  std::sort(held_.begin(), held_.end());
  SLUICE_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  SLUICE_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare("INSERT OR IGNORE INTO population_blocks VALUES(?1,?2,?3,?4,?5,?6,?7)"));
  for (const HeldBlock& b : held_) {
    SLUICE_RETURN_IF_ERROR(st.Reset());
    SLUICE_RETURN_IF_ERROR(st.BindView(1, b.entity));
    SLUICE_RETURN_IF_ERROR(st.BindView(2, b.rule));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, b.block));
    SLUICE_RETURN_IF_ERROR(st.BindView(4, b.source));
    SLUICE_RETURN_IF_ERROR(st.BindView(5, b.key));
    SLUICE_RETURN_IF_ERROR(st.BindView(6, b.run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(7, b.wave));
    SLUICE_RETURN_IF_ERROR(st.Run());
  }
  SLUICE_RETURN_IF_ERROR(tx.Commit());
  std::vector<HeldBlock>().swap(held_);
  return Status::Ok();
}

Result<bool> PopulationStore::HasPopulation(const std::string& entity, const std::string& spec,
                                            const std::string& run_id) {
  bool whole = false;
  SLUICE_RETURN_IF_ERROR(CountedRuns(db_.get(), run_id, entity, spec, &whole).status());
  return whole;
}

Result<std::map<std::string, std::vector<std::string>>> PopulationStore::ResidentsOf(
    const std::string& run_id, int wave, const std::string& entity, const std::string& spec,
    const std::map<std::string, std::vector<std::string>>& also,
    const std::vector<std::pair<std::string, std::string>>& held) {
  // The delta's own blocks are read where they are: written (a flush at
  // kFlushRows) or still held. Writing them here put their B-tree inserts
  // and the WAL checkpoint between the delta's ingest and the residents'
  // extraction (a third of the coordinator's CPU in a 1M delta run); the
  // coordinator writes them once the residents are leased. Rows held of
  // anything else are written first: only this run's blocks may be missing
  // from the table.
  const bool others_held = std::any_of(held_.begin(), held_.end(), [&](const HeldBlock& b) {
    return b.run_id != run_id || b.wave != wave || b.entity != entity;
  });
  if (others_held) SLUICE_RETURN_IF_ERROR(Flush());
  SLUICE_ASSIGN_OR_RETURN(Counted counted, CountedRuns(db_.get(), run_id, entity, spec));
  SLUICE_ASSIGN_OR_RETURN(PopulationReader reader,
                          PopulationReader::Open(db_.get(), entity, std::move(counted), packed_));
  // The delta: every record the run took in, and its blocks.
  std::set<Key> delta;
  std::set<Block> blocks;
  for (const HeldBlock& b : held_) {
    delta.emplace(b.source, b.key);
    if (!b.rule.empty()) blocks.emplace(b.rule, b.block);
  }
  {
    SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT source, key, rule, block_key FROM"
                                                  " population_blocks INDEXED BY population_by_run"
                                                  " WHERE run_id=?1 AND wave=?2 AND entity=?3"));
    SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
    SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
    SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      delta.emplace(std::string(st.ColumnText(0)), std::string(st.ColumnText(1)));
      if (!st.ColumnText(2).empty())
        blocks.emplace(std::string(st.ColumnText(2)), st.ColumnInt64(3));
    }
  }
  // The members of the delta's blocks, as their latest counted run has them.
  std::set<Key> found;  // residents
  std::map<Key, std::set<Block>> latest;
  SLUICE_ASSIGN_OR_RETURN(auto members, db_->Prepare("SELECT source, key, run_id, wave FROM"
                                                     " population_blocks WHERE entity=?1"
                                                     " AND rule=?2 AND block_key=?3"));
  for (const Block& b : blocks) {
    SLUICE_RETURN_IF_ERROR(members.Reset());
    SLUICE_RETURN_IF_ERROR(members.Bind(1, entity));
    SLUICE_RETURN_IF_ERROR(members.Bind(2, b.first));
    SLUICE_RETURN_IF_ERROR(members.Bind(3, b.second));
    std::vector<Key> candidates;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, members.Step());
      if (!row) break;
      Key k{std::string(members.ColumnText(0)), std::string(members.ColumnText(1))};
      if (delta.count(k) || found.count(k)) continue;
      if (!reader.Counts({std::string(members.ColumnText(2)), members.ColumnInt64(3)})) continue;
      candidates.push_back(std::move(k));
    }
    for (Key& k : candidates) {
      auto it = latest.find(k);
      if (it == latest.end()) {
        SLUICE_ASSIGN_OR_RETURN(std::set<Block> mine, reader.LatestBlocks(k));
        it = latest.emplace(k, std::move(mine)).first;
      }
      if (it->second.count(b)) found.insert(std::move(k));
    }
  }
  // Their clusters, the delta's and those of `also`: the root of each
  // survivor chain, then whatever is merged into it, and into those.
  std::set<Key> gone;
  for (const auto& [source, keys] : also) {
    for (const std::string& k : keys) gone.emplace(source, k);
  }
  // Records held for review that a steward decided since: read again, so
  // that the decision applies.
  for (const Key& k : held) {
    if (delta.count(k) || found.count(k)) continue;
    SLUICE_ASSIGN_OR_RETURN(auto fate, reader.Latest(k));
    if (fate.first == "review") found.insert(k);
  }
  std::set<Key> seeds = found;
  seeds.insert(delta.begin(), delta.end());
  seeds.insert(gone.begin(), gone.end());
  std::set<Key> visited;
  std::deque<Key> queue;
  for (const Key& seed : seeds) {
    Key root = seed;
    for (int step = 0; step < 64; ++step) {  // a chain longer than that is a loop
      SLUICE_ASSIGN_OR_RETURN(std::optional<Key> into, reader.MergedInto(root));
      if (!into || *into == root) break;
      root = std::move(*into);
    }
    if (visited.insert(root).second) queue.push_back(root);
  }
  while (!queue.empty()) {
    const Key survivor = std::move(queue.front());
    queue.pop_front();
    SLUICE_ASSIGN_OR_RETURN(std::vector<Key> merged, reader.MergedMembers(survivor));
    for (Key& m : merged) {
      if (visited.insert(m).second) queue.push_back(std::move(m));
    }
  }
  found.insert(visited.begin(), visited.end());
  std::map<std::string, std::vector<std::string>> out;
  for (const Key& k : found) {  // sorted by source, then key
    if (delta.count(k) || gone.count(k)) continue;
    out[k.first].push_back(k.second);
  }
  return out;
}

Status PopulationStore::ForgetPopulation(const std::string& run_id, int wave,
                                         const std::string& entity) {
  SLUICE_RETURN_IF_ERROR(Flush());
  SLUICE_ASSIGN_OR_RETURN(auto st, db_->Prepare("DELETE FROM population_blocks WHERE run_id=?1"
                                                " AND wave=?2 AND entity=?3"));
  SLUICE_RETURN_IF_ERROR(st.Bind(1, run_id));
  SLUICE_RETURN_IF_ERROR(st.Bind(2, wave));
  SLUICE_RETURN_IF_ERROR(st.Bind(3, entity));
  return st.Run();
}

}  // namespace sluice
