// Issue 18 (docs/delta.md), the coordinator's side of delta runs: the marks
// a run extracts above (fixed when it starts, raised when a wave
// reconciles), and the deletion scans whose findings become
// deleted_at_source fates before the entity finishes.
#include <algorithm>
#include <map>
#include <set>

#include "common/core/key_buckets.h"
#include "coordinator/coordinator.h"

namespace sluice::coordination {
namespace {

const char* DeletionsRule(SourceSpec::Deletions mode) {
  return mode == SourceSpec::Deletions::kPropagate ? "propagate" : "report";
}

}  // namespace

Status Coordinator::LoadDeltaMarks() {
  bool incremental = false;
  for (const SourceSpec& s : plan_.sources) incremental |= !s.incremental_column.empty();
  if (!incremental) return Status::Ok();
  // A run continued or resumed reads above the marks its first part read
  // above: what that part extracted was not reconciled, so nothing moved.
  const std::string& first =
      !options_.continue_run.empty() ? options_.continue_run : options_.resumed_from;
  std::optional<AuditStore::RunMarks> kept;
  if (!first.empty()) {
    SLUICE_ASSIGN_OR_RETURN(kept, audit_->RunMarksOf(first));
  }
  AuditStore::RunMarks marks;
  if (kept) {
    marks = std::move(*kept);
  } else if (options_.full) {
    marks.full = true;
  } else {
    SLUICE_ASSIGN_OR_RETURN(AuditStore::Marks all, audit_->MarksOf(plan_.name));
    std::map<std::string, std::string> whole;  // deduplicated entities read whole, and why
    for (const Mapping& m : plan_.mappings) {
      const SourceSpec* s = plan_.FindSource(m.source);
      auto it = all.find({m.entity, m.source});
      if (s == nullptr || s->incremental_column.empty() || it == all.end()) continue;
      // A deduplicated entity read above its marks is resolved with the
      // residents of its delta's blocks (residents.cc), when that gives a
      // full run's decisions; else it is read whole.
      if (plan_.dedup.count(m.entity)) {
        if (!whole.count(m.entity)) {
          SLUICE_ASSIGN_OR_RETURN(std::string why, ReadWholeReason(m.entity));
          if (!why.empty()) whole[m.entity] = why;
        }
        if (whole.count(m.entity)) continue;
      }
      marks.marks[it->first] = it->second;
    }
    for (const auto& [entity, why] : whole) {
      LogInfo(EntityLog(entity), "delta: " + entity + " is deduplicated and " + why +
                                     ": every row of its sources is read, so that new records "
                                     "are matched against the whole population");
    }
  }
  // Deduplicated entities read above a mark match their delta against the
  // residents of its blocks (a continued or resumed run: as its first part).
  for (const auto& [at, mark] : marks.marks) {
    if (plan_.dedup.count(at.first) && !delta_.IncrementalDedup(at.first)) {
      delta_.SetIncrementalDedup(at.first);
      LogInfo(EntityLog(at.first), "delta: " + at.first +
                                       " is deduplicated: its delta is resolved with the "
                                       "records of the blocks it touches and their clusters, "
                                       "read by key (docs/incremental_dedup.md)");
    }
  }
  if (options_.continue_run.empty()) {
    SLUICE_RETURN_IF_ERROR(audit_->RecordRunMarks(summary_.run_id, marks.marks, marks.full));
  }
  for (const auto& [at, mark] : marks.marks) {
    LogInfo(EntityLog(at.first),
            "delta: " + at.first + " from " + at.second + " extracts the rows above " + mark);
  }
  if (marks.full) LogInfo(log_, "full run: every row is extracted, the marks are not read");
  delta_.SetMarks(std::move(marks.marks));
  return Status::Ok();
}

Status Coordinator::RecordDeltaBatch(const v1::Commit& c) {
  if (delta_.IsResidentBatch(c.batch())) {  // read by key: no mark, nothing skipped
    delta_.ResidentsRead(c.batch().entity(), c.batch().source(), c.counts().out());
    return Status::Ok();
  }
  const SourceSpec* s = plan_.FindSource(c.batch().source());
  if (s == nullptr || s->incremental_column.empty()) return Status::Ok();
  return audit_->RecordDeltaBatch(summary_.run_id, waves_.wave(), c);
}

Status Coordinator::RaiseDeltaMarks(int wave) {
  for (const std::string& entity : plan_.waves[wave].entities) {
    for (const Mapping* m : plan_.MappingsFor(entity)) {
      const SourceSpec* s = plan_.FindSource(m->source);
      if (s == nullptr || s->incremental_column.empty()) continue;
      SLUICE_ASSIGN_OR_RETURN(AuditStore::DeltaExtraction d,
                              audit_->DeltaExtractionOf(summary_.run_id, wave, entity, s->name));
      if (d.high.empty()) continue;  // nothing above the mark: it stays
      SLUICE_RETURN_IF_ERROR(
          audit_->RaiseMark(plan_.name, entity, s->name, d.high, summary_.run_id));
      LogInfo(EntityLog(entity),
              "delta: mark of " + entity + " from " + s->name + " raised to " + d.high);
    }
  }
  return Status::Ok();
}

Status Coordinator::PrefetchKnownKeys() {
  // A continued run takes its first wave up where it stood: read at the
  // entity's start, as before.
  if (!options_.continue_run.empty() || options_.start_wave < 0 ||
      static_cast<size_t>(options_.start_wave) >= plan_.waves.size()) {
    return Status::Ok();
  }
  const std::vector<std::string>& entities = plan_.waves[options_.start_wave].entities;
  for (const std::string& entity : entities) {
    const Entity* e = plan_.model.Find(entity);
    if (e == nullptr) continue;
    // A child starts once its parents finished: its keys would wait in
    // memory meanwhile, so they are read when it starts.
    const bool child = std::any_of(e->fields.begin(), e->fields.end(), [&](const ModelField& f) {
      return f.type == FieldType::kReference && f.references != entity &&
             std::find(entities.begin(), entities.end(), f.references) != entities.end();
    });
    if (child) continue;
    for (const Mapping* m : plan_.MappingsFor(entity)) {
      const SourceSpec* s = plan_.FindSource(m->source);
      if (s == nullptr || s->deletions == SourceSpec::Deletions::kIgnore) continue;
      // Other runs' fates, which this run does not change: the keys read now
      // are those the entity's start would read.
      SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> known,
                              audit_->KnownKeys(entity, s->name, summary_.run_id));
      known_keys_[std::make_pair(entity, s->name)] = std::move(known);
    }
  }
  return Status::Ok();
}

Status Coordinator::StartDeletionScans(const std::string& entity) {
  for (const Mapping* m : plan_.MappingsFor(entity)) {
    const SourceSpec* s = plan_.FindSource(m->source);
    if (s == nullptr || s->deletions == SourceSpec::Deletions::kIgnore) continue;
    std::vector<std::string> known;
    if (auto ahead = known_keys_.find({entity, s->name}); ahead != known_keys_.end()) {
      known = std::move(ahead->second);
      known_keys_.erase(ahead);
    } else {
      SLUICE_ASSIGN_OR_RETURN(known, audit_->KnownKeys(entity, s->name, summary_.run_id));
    }
    if (known.empty()) continue;  // nothing loaded before: nothing to lose
    v1::Lease lease = delta_.BeginScan(waves_.IngestId(entity, s->name, 0), std::move(known));
    lease.set_epoch(leases_.NextEpoch());
    delta_.Leased(lease);
    leases_.Queue("extractor", std::move(lease));
  }
  return Status::Ok();
}

void Coordinator::RequeueDeletionScans() {
  for (v1::Lease lease : delta_.PendingScans()) {
    lease.set_epoch(leases_.NextEpoch());
    delta_.Leased(lease);
    leases_.Queue("extractor", std::move(lease));
  }
}

Status Coordinator::OnKeysScanned(const std::string& from, const v1::Commit& c) {
  const Worker* w = roster_.Find(from);
  if (w == nullptr || w->role != "extractor") return Status::Ok();
  poison_.Committed(from, c);
  if (!delta_.OnScanned(c)) return Status::Ok();  // stale, or of another run
  LogInfo(EntityLog(c.batch().entity()),
          "deletions: " + c.batch().source() + " holds " + std::to_string(c.counts().in()) +
              " key(s); " + std::to_string(c.differing_buckets_size()) + " of " +
              std::to_string(delta_.BucketsOf(c.batch().entity(), c.batch().source())) +
              " key bucket(s) differ from the target's");
  last_progress_ = Now();
  return Status::Ok();
}

bool Coordinator::DeletionsScanned(const std::string& entity) const {
  return delta_.Scanned(entity);
}

Status Coordinator::RecordDeletions(const std::string& entity) {
  const int wave = waves_.wave();
  for (auto& [source, candidates] : delta_.Deleted(entity)) {
    const SourceSpec* s = plan_.FindSource(source);
    if (s == nullptr) continue;
    // A key the run extracted is at the source after all (it came back
    // between the scan and its extraction): one fate per record per run.
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> seen,
                            audit_->KeysWithFate(summary_.run_id, entity, source, candidates));
    std::set<std::string> skip(seen.begin(), seen.end());
    // A survivor's row holds its merged records' golden record: removing it
    // would leave them pointing nowhere. It is reported, never removed.
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> survivors,
                            audit_->SurvivorsAmong(entity, source, candidates));
    std::set<std::string> survivor(survivors.begin(), survivors.end());
    v1::Commit commit;
    commit.set_stage("delete");
    *commit.mutable_batch() = waves_.IngestId(entity, source, kScanSequence);
    for (const std::string& key : candidates) {
      if (skip.count(key)) continue;
      v1::Fate* f = commit.add_fates();
      f->set_kind(v1::FATE_DELETED_AT_SOURCE);
      f->set_source(source);
      f->set_key(key);
      f->set_stage("delete");
      if (survivor.count(key)) {
        f->set_rule("report");
        f->set_reason(
            "deleted at the source; its row is kept: records are still merged into it "
            "(this run did not decide them again)");
      } else {
        f->set_rule(DeletionsRule(s->deletions));
        f->set_reason(s->deletions != SourceSpec::Deletions::kPropagate
                          ? "deleted at the source: its row stays in the target"
                      : s->soft_delete_field.empty()
                          ? "deleted at the source: its row is removed from the target"
                          : "deleted at the source: its row is marked deleted (" +
                                s->soft_delete_field + ")");
      }
    }
    commit.mutable_counts()->set_in(static_cast<uint64_t>(commit.fates_size()));
    bool counted = false;
    for (EntitySourceSummary& row : summary_.rows) {
      if (row.wave == wave && row.entity == entity && row.source == source) {
        row.deleted = static_cast<uint64_t>(commit.fates_size());
        counted = true;
      }
    }
    // A source with nothing above its mark (and no resident) extracted no
    // batch, so the ledger gave it no row: its deletions get one.
    if (!counted && commit.fates_size() > 0) {
      EntitySourceSummary row;
      row.entity = entity;
      row.source = source;
      row.wave = wave;
      row.mark = delta_.MarkOf(entity, source);
      row.deleted = static_cast<uint64_t>(commit.fates_size());
      summary_.rows.push_back(std::move(row));
    }
    if (commit.fates_size() == 0) continue;
    SLUICE_RETURN_IF_ERROR(audit_->RecordCommit(summary_.run_id, wave, commit));
    LogInfo(EntityLog(entity), "deletions: " + std::to_string(commit.fates_size()) + " key(s) of " +
                                   entity + " from " + source + " deleted at the source (" +
                                   DeletionsRule(s->deletions) + ")");
  }
  delta_.Forget(entity);
  return Status::Ok();
}

void Coordinator::AddDeltaFigures(const std::string& entity) {
  const int wave = waves_.wave();
  for (EntitySourceSummary& row : summary_.rows) {
    if (row.wave != wave || row.entity != entity) continue;
    row.mark = delta_.MarkOf(entity, row.source);
    row.residents = delta_.ResidentsOf(entity, row.source);
    auto d = audit_->DeltaExtractionOf(summary_.run_id, wave, entity, row.source);
    if (d.ok()) row.skipped = d->skipped;
  }
}

}  // namespace sluice::coordination
