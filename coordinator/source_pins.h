// The run's pins of its file sources and the first extraction of each batch
// (issue 23; docs/limits.md#sources-are-pinned; common/runtime/source_pin.h).
//
// The first extract commit of a source pins it for the run: every later
// extract commit must carry the same pin, and every extraction lease carries
// it, so that an extractor (a replacement included) passes on nothing read
// from a changed file. A batch extracted again must match its first
// extraction: the same rows in, the same key checksum, the same sum of
// content hashes. Not thread-safe.
#pragma once

#include <map>
#include <string>

#include "common/core/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

class SourcePins {
 public:
  // Checks an extract commit against the source's pin and the batch's first
  // extraction, and records both when they are the first. Corruption naming
  // the source, the batch and what changed otherwise.
  Status Check(const v1::Commit& commit);
  // Adds the source's pin, when the run has one, to an extraction lease.
  void Fill(v1::Lease* lease) const;

 private:
  struct Extraction {
    uint64_t in = 0;
    uint64_t in_checksum = 0;
    uint64_t content_checksum = 0;
  };
  std::map<std::string, v1::SourcePin> pins_;        // by source name
  std::map<std::string, Extraction> first_batches_;  // by BatchName
};

}  // namespace sluice::coordination
