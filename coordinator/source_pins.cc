#include "coordinator/source_pins.h"

#include "common/core/record.h"
#include "common/runtime/source_pin.h"

namespace sluice::coordination {

Status SourcePins::Check(const v1::Commit& c) {
  const std::string& source = c.batch().source();
  const std::string batch = BatchName(c.batch());
  if (c.has_source_pin()) {
    auto [pin, first] = pins_.try_emplace(source, c.source_pin());
    const std::string change = first ? "" : PinChange(pin->second, c.source_pin());
    if (!change.empty()) {
      return Status::Corruption("source " + source + " changed during the run: " + change +
                                "; batch " + batch + " was read from the changed file");
    }
    const v1::BatchId& id = c.batch();
    StreamEnd& end = ends_[std::to_string(id.wave()) + "/" + id.entity() + "/" + source];
    if (id.sequence() + 1 > end.next.sequence() || end.next.run_id().empty()) {
      end.next = id;
      end.next.set_sequence(id.sequence() + 1);
      end.end_offset = c.range().end_offset();
      end.first_line = c.range().first_line();
    }
  }
  const Extraction now{c.counts().in(), c.counts().in_checksum(), c.content_checksum()};
  auto [was, first] = first_batches_.try_emplace(batch, now);
  if (first) return Status::Ok();
  const Extraction& e = was->second;
  std::string differs;
  if (e.in != now.in) {
    differs = std::to_string(now.in) + " row(s) instead of " + std::to_string(e.in);
  } else if (e.in_checksum != now.in_checksum) {
    differs = "other keys (key checksums differ)";
  } else if (e.content_checksum != now.content_checksum) {
    differs = "the same keys with other values (content hashes differ)";
  }
  if (differs.empty()) return Status::Ok();
  return Status::Corruption("source " + source + " changed during the run: batch " + batch +
                            " extracted again holds " + differs + " than when first extracted");
}

void SourcePins::Fill(v1::Lease* lease) const {
  if (lease->kind() != v1::Lease::KIND_EXTRACT_SOURCE &&
      lease->kind() != v1::Lease::KIND_EXTRACT_BATCH) {
    return;
  }
  auto it = pins_.find(lease->batch().source());
  if (it != pins_.end()) *lease->mutable_source_pin() = it->second;
}

void SourcePins::Ended(const v1::BatchId& next, uint64_t end_offset, uint64_t first_line) {
  StreamEnd& end = ends_[std::to_string(next.wave()) + "/" + next.entity() + "/" + next.source()];
  if (next.sequence() >= end.next.sequence()) end = {next, end_offset, first_line};
}

void SourcePins::Carry(const std::string& source, const v1::SourcePin& pin) { pins_[source] = pin; }

std::vector<v1::Lease> SourcePins::EndLeases(uint32_t wave) const {
  std::vector<v1::Lease> out;
  for (const auto& [stream, end] : ends_) {
    if (end.next.wave() != wave) continue;
    v1::Lease lease;
    lease.set_kind(v1::Lease::KIND_EXTRACT_SOURCE);
    *lease.mutable_batch() = end.next;
    lease.mutable_batch()->set_sequence(0);
    lease.set_next_sequence(end.next.sequence());
    lease.mutable_range()->set_begin_offset(end.end_offset);
    lease.mutable_range()->set_first_line(end.first_line);  // refined by the source on Seek
    Fill(&lease);
    out.push_back(std::move(lease));
  }
  return out;
}

}  // namespace sluice::coordination
