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

}  // namespace sluice::coordination
