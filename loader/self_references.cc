#include "loader/self_references.h"

#include <cinttypes>
#include <cstdio>

#include "common/core/hash.h"

namespace sluice {
namespace {

bool HasValue(const Value& v) { return !v.is_null && !v.s.empty(); }

}  // namespace

std::vector<bool> SelfReferences::Deferred(const Entity& entity, const RecordBatch& batch,
                                           const std::vector<bool>& refused) {
  std::vector<bool> deferred(batch.records.size(), false);
  const std::vector<size_t> columns = SelfReferenceColumns(entity);
  if (columns.empty()) return deferred;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    if (!refused.empty() && refused[i]) continue;
    for (size_t c : columns) {
      if (c < batch.records[i].values.size() && HasValue(batch.records[i].values[c])) {
        deferred[i] = true;
      }
    }
  }
  return deferred;
}

std::string SelfReferences::StreamPrefix(const v1::BatchId& id) {
  const std::string name = BatchName(id);
  return name.substr(0, name.rfind('/') + 1);
}

std::string SelfReferences::EntityPrefix(const v1::BatchId& id) {
  return id.run_id() + "/" + std::to_string(id.wave()) + "/" + id.entity() + "/";
}

bool SelfReferences::Holding(const v1::BatchId& batch_id) const {
  return streams_.count(EntityPrefix(batch_id)) > 0;
}

void SelfReferences::Loaded(const v1::BatchId& batch_id, const std::vector<Record>& records) {
  auto it = streams_.find(EntityPrefix(batch_id));
  if (it == streams_.end()) return;  // nobody waits
  for (const Record& r : records) {
    it->second.recent.emplace(r.source, r.key);
    for (const SourceKey& m : r.merged) it->second.recent.emplace(m.source, m.key);
  }
}

void SelfReferences::Hold(const Entity& entity, RecordBatch batch, LoadOutcome outcome,
                          std::vector<v1::ReviewItem> review_items,
                          const std::vector<bool>& deferred) {
  const std::vector<size_t> columns = SelfReferenceColumns(entity);
  Held held;
  held.waiting.assign(batch.records.size(), false);
  for (size_t i = 0; i < batch.records.size(); ++i) {
    if (i >= deferred.size() || !deferred[i]) continue;
    held.waiting[i] = true;
    ++held.waiting_count;
    const Record& r = batch.records[i];
    for (size_t c : columns) {
      if (!HasValue(r.values[c])) continue;
      Pending p;
      p.record = i;
      p.column = c;
      p.source = ParentSource(*plan_, r.source);
      p.key = r.values[c].s;
      held.pending.push_back(std::move(p));
    }
  }
  outcome.target_ids.resize(batch.records.size(), 0);
  outcome.actions.resize(batch.records.size(), LoadOutcome::kUnchanged);
  held.batch = std::move(batch);
  held.outcome = std::move(outcome);
  held.review_items = std::move(review_items);
  const std::pair<std::string, uint64_t> at(held.batch.id.source(), held.batch.id.sequence());
  streams_[EntityPrefix(held.batch.id)].held[at] = std::move(held);
}

Status SelfReferences::Resolve(const Entity& entity, Stream& stream, bool all) {
  // source -> key -> the pending references to it
  std::map<std::string, std::map<std::string, std::vector<Pending*>>> wanted;
  for (auto& [at, held] : stream.held) {
    for (Pending& p : held.pending) {
      if (p.id != 0 || p.nulled || !held.waiting[p.record]) continue;
      if (p.checked && !all && !stream.recent.count({p.source, p.key})) continue;
      wanted[p.source][p.key].push_back(&p);
    }
  }
  stream.recent.clear();
  for (auto& [source, keys] : wanted) {
    std::vector<std::string> list;
    list.reserve(keys.size());
    for (const auto& [key, refs] : keys) list.push_back(key);
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                            target_->ResolveKeys(entity.name, source, list));
    for (size_t k = 0; k < list.size(); ++k) {
      for (Pending* p : keys[list[k]]) {
        p->checked = true;
        p->id = ids[k];
      }
    }
  }
  return Status::Ok();
}

Result<bool> SelfReferences::LoadReady(const Entity& entity, Stream& stream, Held& held) {
  std::vector<bool> blocked(held.batch.records.size(), false);
  for (const Pending& p : held.pending) {
    if (p.id == 0 && !p.nulled) blocked[p.record] = true;
  }
  std::vector<size_t> ready;
  for (size_t i = 0; i < held.batch.records.size(); ++i) {
    if (held.waiting[i] && !blocked[i]) ready.push_back(i);
  }
  if (ready.empty()) return false;
  for (const Pending& p : held.pending) {
    if (!held.waiting[p.record] || blocked[p.record]) continue;
    Value& v = held.batch.records[p.record].values[p.column];
    v = p.nulled ? Value::Null() : Value::Str(std::to_string(p.id));
  }
  // A load of its own, named after its records: a replay after a crash
  // finds it applied when it holds the same records, and otherwise upserts
  // them again (unchanged where they were loaded).
  RecordBatch part;
  part.id = held.batch.id;
  part.epoch = held.batch.epoch;
  part.range = held.batch.range;
  part.schema = held.batch.schema;
  std::string keys;
  for (size_t i : ready) {
    Record r = held.batch.records[i];
    r.content_hash = ContentHash(part.schema, r.values);
    held.batch.records[i].content_hash = r.content_hash;
    keys += r.source + '\x1f' + r.key + '\x1e';
    part.records.push_back(std::move(r));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, Hash64(keys));
  part.id.set_source(held.batch.id.source() + "+self:" + hex);
  SLUICE_ASSIGN_OR_RETURN(LoadOutcome loaded, target_->Load(run_id_, entity, part));
  LoadOutcome& out = held.outcome;
  out.inserted += loaded.inserted;
  out.updated += loaded.updated;
  out.unchanged += loaded.unchanged;
  for (size_t k = 0; k < ready.size(); ++k) {
    const size_t i = ready[k];
    out.target_ids[i] = k < loaded.target_ids.size() ? loaded.target_ids[k] : 0;
    out.actions[i] = k < loaded.actions.size() ? loaded.actions[k] : LoadOutcome::kUnchanged;
    held.waiting[i] = false;
    --held.waiting_count;
  }
  for (v1::Fate& f : loaded.rejects) out.rejects.push_back(std::move(f));
  for (const Record& r : part.records) {
    stream.recent.emplace(r.source, r.key);
    for (const SourceKey& m : r.merged) stream.recent.emplace(m.source, m.key);
  }
  return true;
}

Result<bool> SelfReferences::Complete(const Stream& stream) {
  std::map<std::string, uint64_t> expected;  // stream prefix -> its output batches
  bool counted_all = false;                  // a batch carries every stream's count
  uint32_t streams = 0;
  for (const auto& [at, held] : stream.held) {
    const v1::BatchRange& range = held.batch.range;
    if (range.stream_batches_size() > 0) {
      // Every dedup shard's count, as each shard computed it in round 4: a
      // stream this loader has seen no batch of (another loader's, or a
      // shard that emitted none) is counted too. Every batch of the
      // resolution carries the same counts.
      counted_all = true;
      v1::BatchId id = held.batch.id;
      for (int s = 0; s < range.stream_batches_size(); ++s) {
        id.set_source("dedup/" + std::to_string(s));
        uint64_t& n = expected[StreamPrefix(id)];
        n = std::max<uint64_t>(n, range.stream_batches(s));
      }
      continue;
    }
    uint64_t& n = expected[StreamPrefix(held.batch.id)];
    n = std::max<uint64_t>(n, range.output_batches());
    streams = std::max(streams, range.output_streams());
  }
  // Without every stream's count (an older deduper), several dedup shards
  // each emit a stream this loader cannot count: a parent may be in one
  // still loading. Deciding orphans then could reject a child whose parent
  // is on its way; waiting halts the run on its stall timeout instead of
  // loading it wrong.
  if (!counted_all && (streams > 1 || expected.size() > 1)) return false;
  for (const auto& [prefix, n] : expected) {
    if (n == 0) {
      if (counted_all) continue;  // a shard that emitted nothing
      return false;               // not a deduper output batch: never decided here
    }
    SLUICE_ASSIGN_OR_RETURN(uint64_t applied, target_->CountAppliedBatches(run_id_, prefix));
    if (applied < n) return false;
  }
  return true;
}

void SelfReferences::Orphan(const Entity& entity, Held& held, Pending& p, const std::string& why) {
  const ModelField& field = entity.fields[p.column];
  const RuleSpec* rule = FindReferenceRule(*plan_, entity.name, field.name);
  const Record& r = held.batch.records[p.record];
  ReferenceOutcome decided;
  if (AddOrphan(entity, field, rule, r, held.batch.schema, p.key, p.source, why, &decided)) {
    p.nulled = true;  // loaded with the reference NULL, at the next round
    for (v1::Fate& f : decided.warnings) held.outcome.rejects.push_back(std::move(f));
    return;
  }
  for (v1::Fate& f : decided.orphans) held.outcome.rejects.push_back(std::move(f));
  for (v1::ReviewItem& item : decided.review_items) held.review_items.push_back(std::move(item));
  held.waiting[p.record] = false;
  --held.waiting_count;
  held.outcome.target_ids[p.record] = 0;
}

bool SelfReferences::DecideOrphans(const Entity& entity, Stream& stream) {
  // The records still to load: a reference to one of them may yet resolve.
  std::set<std::pair<std::string, std::string>> waiting;
  for (const auto& [at, held] : stream.held) {
    for (size_t i = 0; i < held.batch.records.size(); ++i) {
      if (!held.waiting[i]) continue;
      const Record& r = held.batch.records[i];
      waiting.emplace(r.source, r.key);
      for (const SourceKey& m : r.merged) waiting.emplace(m.source, m.key);
    }
  }
  bool decided = false;
  for (auto& [at, held] : stream.held) {
    for (Pending& p : held.pending) {
      if (p.id != 0 || p.nulled || !held.waiting[p.record]) continue;
      if (waiting.count({p.source, p.key})) continue;
      Orphan(entity, held, p, "not found in source " + p.source);
      decided = true;
    }
  }
  if (decided) return true;
  // Only records waiting for each other are left: a cycle in the data.
  // Decide the first one; the others follow from its fate at the next
  // rounds (its children load, or become orphans in turn).
  for (auto& [at, held] : stream.held) {
    for (Pending& p : held.pending) {
      if (p.id != 0 || p.nulled || !held.waiting[p.record]) continue;
      Orphan(entity, held, p,
             "of source " + p.source + " is not loaded: its " + entity.name +
                 " records reference each other in a cycle");
      return true;
    }
  }
  return false;
}

Result<std::vector<SettledBatch>> SelfReferences::Settle(const Entity& entity,
                                                         const v1::BatchId& batch_id) {
  std::vector<SettledBatch> settled;
  auto it = streams_.find(EntityPrefix(batch_id));
  if (it == streams_.end()) return settled;
  Stream& stream = it->second;
  bool all = false;
  for (;;) {
    SLUICE_RETURN_IF_ERROR(Resolve(entity, stream, all));
    all = false;
    bool loaded = false;
    for (auto& [at, held] : stream.held) {
      if (held.waiting_count == 0) continue;
      SLUICE_ASSIGN_OR_RETURN(bool any, LoadReady(entity, stream, held));
      loaded = loaded || any;
    }
    if (loaded) continue;
    bool waiting = false;
    for (const auto& [at, held] : stream.held) waiting = waiting || held.waiting_count > 0;
    if (!waiting) break;
    SLUICE_ASSIGN_OR_RETURN(bool complete, Complete(stream));
    if (!complete) break;
    if (!stream.looked_at_all) {
      // Another loader may have loaded parents since: one full look first.
      stream.looked_at_all = true;
      all = true;
      continue;
    }
    if (!DecideOrphans(entity, stream)) break;
  }
  for (auto h = stream.held.begin(); h != stream.held.end();) {
    if (h->second.waiting_count > 0) {
      ++h;
      continue;
    }
    SettledBatch& s = settled.emplace_back();
    s.batch = std::move(h->second.batch);
    s.outcome = std::move(h->second.outcome);
    s.review_items = std::move(h->second.review_items);
    h = stream.held.erase(h);
  }
  if (stream.held.empty()) streams_.erase(it);
  return settled;
}

}  // namespace sluice
