#include "extractor/extract_worker.h"

#include <csignal>

#include "common/core/limits.h"
#include "common/runtime/source_pin.h"
#include "extractor/delta_source.h"
#include "extractor/key_list_source.h"
#include "extractor/key_scan.h"
#include "extractor/pii_rejects.h"

namespace sluice {

Status ExtractLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  return Status::Ok();
}

Result<ExtractLogic::Opened> ExtractLogic::Open(const v1::Lease& lease) {
  const v1::BatchId& id = lease.batch();
  Opened o;
  o.spec = ctx_.plan.FindSource(id.source());
  if (o.spec == nullptr) return Status::NotFound("source " + id.source() + " is not in the plan");
  // Pinned before the first read, so that a change during it shows.
  if (lease.has_source_pin()) {
    o.pin = lease.source_pin();
  } else {
    SLUICE_ASSIGN_OR_RETURN(o.pin, PinSource(*o.spec));
  }
  // Delta extraction (issue 18): the mark travels in the lease's range, so
  // that a batch is read again under the mark it was first read under. A
  // key scan reads every row.
  SourceSpec spec = *o.spec;
  // Incremental dedup (issue 18 item 3): residents are read by key, above
  // the mark or not.
  std::vector<std::string> resident_keys;
  if (lease.kind() != v1::Lease::KIND_SCAN_KEYS) {
    resident_keys.assign(lease.range().resident_keys().begin(),
                         lease.range().resident_keys().end());
  }
  const bool residents = !resident_keys.empty();
  if (!residents && !spec.incremental_column.empty() && !lease.range().watermark_above().empty() &&
      lease.kind() != v1::Lease::KIND_SCAN_KEYS) {
    spec.extract_above = lease.range().watermark_above();
  }
  spec.keys_only = lease.kind() == v1::Lease::KIND_SCAN_KEYS;  // only the keys are compared
  auto source = residents ? OpenSourceByKeys(spec, resident_keys) : OpenSource(spec);
  if (!source.ok()) return source.status().WithContext("source " + id.source());
  o.source = std::move(source).value();
  if (!residents && !spec.incremental_column.empty() && lease.kind() != v1::Lease::KIND_SCAN_KEYS) {
    SLUICE_ASSIGN_OR_RETURN(o.source, DeltaSource::Wrap(spec, std::move(o.source)));
  }
  SLUICE_RETURN_IF_ERROR(CheckPin(o, "batch " + BatchName(id) + " is not extracted"));
  return o;
}

Status ExtractLogic::CheckPin(const Opened& opened, const std::string& what) {
  if (!opened.pin) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(std::optional<v1::SourcePin> now, PinSource(*opened.spec));
  const std::string change = now ? PinChange(*opened.pin, *now) : "";
  if (change.empty()) return Status::Ok();
  return Status::Corruption("source " + opened.spec->name + " (" + opened.spec->path +
                            ") changed during the run: " + change + "; " + what +
                            "; put back the file the run started with and resume it, or start "
                            "a new run");
}

Status ExtractLogic::OnLease(const v1::Lease& lease, StageEmitter& out) {
  SLUICE_ASSIGN_OR_RETURN(Opened opened, Open(lease));
  if (lease.kind() == v1::Lease::KIND_EXTRACT_BATCH) {
    SLUICE_RETURN_IF_ERROR(opened.source->Seek(lease.range()));
    SLUICE_ASSIGN_OR_RETURN(bool got, ExtractOne(opened, lease.batch(), lease.epoch(), out));
    if (!got)
      return Status::Corruption("batch " + BatchName(lease.batch()) + " is gone from the source");
    return Status::Ok();
  }
  if (lease.kind() == v1::Lease::KIND_SCAN_KEYS) {
    const size_t rows = limits::BatchRows(static_cast<size_t>(ctx_.plan.batch_size),
                                          opened.source->schema().fields.size());
    SLUICE_ASSIGN_OR_RETURN(v1::Commit scan,
                            ScanKeys(*opened.source, lease.batch().source(), lease, rows));
    SLUICE_RETURN_IF_ERROR(CheckPin(opened, "its keys are not compared"));
    out.Commit(std::move(scan));
    return Status::Ok();
  }
  if (lease.kind() != v1::Lease::KIND_EXTRACT_SOURCE) {
    return Status::InvalidArgument("extractor cannot take this lease");
  }
  if (lease.range().begin_offset() > 0) {
    SLUICE_RETURN_IF_ERROR(opened.source->Seek(lease.range()));
  }
  Stream s;
  s.lease = lease;
  s.opened = std::move(opened);
  s.next_sequence = lease.next_sequence();
  streams_.push_back(std::move(s));
  return Status::Ok();
}

Result<bool> ExtractLogic::ExtractOne(Opened& opened, const v1::BatchId& id, uint64_t epoch,
                                      StageEmitter& out) {
  Source& source = *opened.source;
  RecordBatch batch;
  std::vector<v1::Fate> rejects;
  // Wide rows make smaller batches: a batch stays within limits::kMaxBatchValues.
  const size_t rows =
      limits::BatchRows(static_cast<size_t>(ctx_.plan.batch_size), source.schema().fields.size());
  SLUICE_ASSIGN_OR_RETURN(bool got, source.Next(rows, &batch, &rejects));
  // Whatever was read came from the pinned file only if it still matches.
  SLUICE_RETURN_IF_ERROR(CheckPin(
      opened,
      got ? "nothing of batch " + BatchName(id) + " is passed on"
          : "its end was not taken as the end of the source (batch " + BatchName(id) + ")"));
  if (!got) return false;
  if (ctx_.faults.sigsegv_on_key) {
    for (const Record& r : batch.records) {
      if (r.key == *ctx_.faults.sigsegv_on_key) raise(SIGSEGV);  // test fault: a poisonous record
    }
  }
  batch.id = id;
  batch.epoch = epoch;
  for (auto& f : rejects) {
    f.set_stage("extract");
    if (f.source().empty()) f.set_source(id.source());
  }
  if (SourceCarriesPii(ctx_.plan, id.source())) WithholdRawRows(ctx_.plan, &rejects);
  // Extraction is where records are born: `in` counts every row read,
  // records passed on and malformed rows rejected here.
  v1::Commit commit = MakeCommit(stage(), batch, batch.records, rejects);
  KeyChecksum all;
  all.AddHash(commit.counts().out_checksum());
  for (const auto& f : rejects) all.Add(f.source(), f.key());
  commit.mutable_counts()->set_in(batch.records.size() + rejects.size());
  commit.mutable_counts()->set_in_checksum(all.value());
  if (opened.pin) *commit.mutable_source_pin() = *opened.pin;
  uint64_t content = 0;
  for (const Record& r : batch.records) content += r.content_hash;
  commit.set_content_checksum(content);
  out.Commit(std::move(commit));
  out.Emit(0, batch);
  return true;
}

Result<bool> ExtractLogic::Produce(StageEmitter& out) {
  if (streams_.empty()) return false;
  // One batch per stream in turn: the sources of entities in flight together
  // (parallel entities of a wave) all move, none waits for another to end.
  if (next_stream_ >= streams_.size()) next_stream_ = 0;
  const size_t current = next_stream_++;
  Stream& s = streams_[current];
  v1::BatchId id = s.lease.batch();
  id.set_sequence(s.next_sequence);
  SLUICE_ASSIGN_OR_RETURN(bool got, ExtractOne(s.opened, id, s.lease.epoch(), out));
  if (got) {
    ++s.next_sequence;
  } else {
    v1::Envelope env;
    auto* done = env.mutable_stream_done();
    done->set_stage(stage());
    *done->mutable_last() = s.lease.batch();
    done->mutable_last()->set_sequence(s.next_sequence);
    done->set_epoch(s.lease.epoch());
    done->set_batches(s.next_sequence);
    out.Send(std::move(env));
    streams_.erase(streams_.begin() + static_cast<std::ptrdiff_t>(current));
    next_stream_ = current;
  }
  return !streams_.empty();
}

}  // namespace sluice
