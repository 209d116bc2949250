// Sources pinned across the whole run (issue 23, item 5;
// docs/limits.md#sources-are-pinned). The extractor checks a file source
// against the run's pin after every batch it reads, which leaves two gaps
// closed here:
// - a file changed after its last batch was read: before the wave
//   reconciles, an extractor is leased each pinned stream again from where
//   it ended, reads nothing more, checks the file and ends the stream; a
//   change halts the run (the extractor's fatal error names the source and
//   what changed), so a wave never reconciles over a source that moved;
// - `sluice resume` and a continued run: the pins of the run resumed are
//   carried over (a resume re-reads the halted wave whole, so it carries the
//   pins of the sources the waves before it read, which their loaded rows
//   came from), recorded again under the new run.
#include <cstdlib>

#include "coordinator/coordinator.h"

namespace sluice::coordination {
namespace {

std::string StreamOf(const v1::BatchId& id) { return id.entity() + "/" + id.source(); }

}  // namespace

Status Coordinator::CarryPins() {
  const bool continued = !options_.continue_run.empty();
  const std::string from = continued ? summary_.run_id : options_.resumed_from;
  if (from.empty()) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(std::vector<AuditStore::SourcePinRecord> pins,
                          audit_->SourcePinsOf(from));
  for (const AuditStore::SourcePinRecord& p : pins) {
    if (!continued && p.wave >= options_.start_wave) continue;  // read again whole
    if (pins_.Has(p.source)) continue;
    pins_.Carry(p.source, p.pin);
    if (!continued) {
      SLUICE_RETURN_IF_ERROR(audit_->RecordSourcePin(summary_.run_id, p.wave, p.source, p.pin));
    }
    LogInfo(log_, "source " + p.source + " pinned as run " + from + " read it: " + p.pin.path() +
                      ", " + std::to_string(p.pin.size()) + " bytes");
  }
  if (!continued) return Status::Ok();
  // What the dead coordinator saw extracted of the wave it stopped in: its
  // pin check still has to run before the wave reconciles.
  SLUICE_ASSIGN_OR_RETURN(std::vector<AuditStore::ExtractedStream> streams,
                          audit_->ExtractedStreams(from, options_.start_wave));
  for (const AuditStore::ExtractedStream& s : streams) {
    if (!pins_.Has(s.source) || s.batches == 0) continue;
    v1::BatchId next;
    next.set_run_id(from);
    next.set_wave(static_cast<uint32_t>(options_.start_wave));
    next.set_entity(s.entity);
    next.set_source(s.source);
    next.set_sequence(s.batches);
    // Its last batch's first line: a line the source can seek to.
    v1::BatchId last = next;
    last.set_sequence(s.batches - 1);
    uint64_t first_line = 0;
    SLUICE_ASSIGN_OR_RETURN(auto commits, audit_->BatchCommits(from, BatchName(last)));
    for (const auto& c : commits) {
      auto stage = c.find("stage");
      auto line = c.find("first_line");
      if (stage != c.end() && stage->second == "extract" && line != c.end()) {
        first_line = std::strtoull(line->second.c_str(), nullptr, 10);
      }
    }
    pins_.Ended(next, s.end_offset, first_line);
  }
  return Status::Ok();
}

Status Coordinator::RecordPin(const v1::Commit& c) {
  if (!c.has_source_pin() || pins_.Has(c.batch().source())) return Status::Ok();
  return audit_->RecordSourcePin(summary_.run_id, static_cast<int>(c.batch().wave()),
                                 c.batch().source(), c.source_pin());
}

bool Coordinator::StartPinCheck() {
  pin_checks_.clear();
  for (v1::Lease& lease : pins_.EndLeases(static_cast<uint32_t>(waves_.wave()))) {
    lease.set_epoch(leases_.NextEpoch());
    pin_checks_[StreamOf(lease.batch())] = lease;
    leases_.Queue("extractor", std::move(lease));
  }
  if (pin_checks_.empty()) return false;
  LogInfo(log_, "wave " + waves_.spec().name + ": checking that " +
                    std::to_string(pin_checks_.size()) +
                    " pinned source stream(s) did not change since they were read");
  last_progress_ = Now();
  return true;
}

bool Coordinator::OnPinChecked(const v1::StreamDone& d) {
  auto it = pin_checks_.find(StreamOf(d.last()));
  if (it == pin_checks_.end() || it->second.epoch() != d.epoch()) return false;
  pin_checks_.erase(it);
  last_progress_ = Now();
  if (pin_checks_.empty() && !halted_) {
    LogInfo(log_, "wave " + waves_.spec().name + ": pinned sources unchanged");
    LeaseReconcile();
  }
  return true;
}

void Coordinator::RequeuePinChecks() {
  for (auto& [stream, lease] : pin_checks_) {
    lease.set_epoch(leases_.NextEpoch());
    leases_.Queue("extractor", lease);
  }
}

}  // namespace sluice::coordination
