// A dedup resolution as it arrives: in dedup_resolve commits of bounded
// size, in order (proto/sluice/v1/resolve.proto), the last one carrying
// the counts. The coordinator records each part as it comes and keeps only
// a digest; the resolution counts once its last part has come, with every
// part before it and the totals it announces (docs/dedup.md#resolution-parts).
#pragma once

#include <cstdint>
#include <string>

#include "common/core/status.h"
#include "coordinator/ledger.h"
#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

class ResolveParts {
 public:
  ResolveParts(std::string name, uint64_t epoch) : name_(std::move(name)), epoch_(epoch) {}

  // The resolve batch's name and the epoch of the resolve lease it answers.
  const std::string& name() const { return name_; }
  uint64_t epoch() const { return epoch_; }

  // Takes the next part; a commit without `resolve_part` is a whole
  // resolution, its only part. Corruption when it is not the part expected
  // next (one was lost), comes after the last, or, being the last, announces
  // other totals than the parts brought.
  Status Take(const v1::Commit& part);
  // Whether the last part has been taken.
  bool complete() const { return complete_; }
  // The resolution's digest, once complete (for Ledger::ApplyResolution).
  ResolutionDigest TakeDigest() { return std::move(digest_); }

 private:
  std::string name_;
  uint64_t epoch_ = 0;
  uint32_t next_ = 0;  // the index of the part expected next
  bool complete_ = false;
  uint64_t decisions_ = 0, review_items_ = 0, golden_records_ = 0;
  ResolutionDigest digest_;
};

}  // namespace sluice::coordination
