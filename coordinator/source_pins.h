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
#include <vector>

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
  // A pin the run takes over from the run it resumes or continues (issue 23,
  // coordinator/pin_check.cc): the source is compared against it from the
  // first lease on.
  void Carry(const std::string& source, const v1::SourcePin& pin);
  bool Has(const std::string& source) const { return pins_.count(source) > 0; }
  // A stream a continued run finds extracted already: `next` is the batch
  // after its last (sequence = batch count), which ended at `end_offset`.
  void Ended(const v1::BatchId& next, uint64_t end_offset, uint64_t first_line);
  // For each stream of `wave` read from a pinned source: an extraction lease
  // (no epoch yet) from where its last batch ended, numbering from its batch
  // count. An extractor holding it reads nothing more, checks the file
  // against the pin and ends the stream, or halts the run on a change.
  std::vector<v1::Lease> EndLeases(uint32_t wave) const;

 private:
  struct StreamEnd {
    v1::BatchId next;  // the batch after its last: sequence = batch count
    uint64_t end_offset = 0;
    uint64_t first_line = 0;  // of its last batch: a line the source can seek to
  };
  std::map<std::string, StreamEnd> ends_;  // by "wave/entity/source"
  struct Extraction {
    uint64_t in = 0;
    uint64_t in_checksum = 0;
    uint64_t content_checksum = 0;
  };
  std::map<std::string, v1::SourcePin> pins_;        // by source name
  std::map<std::string, Extraction> first_batches_;  // by BatchName
};

}  // namespace sluice::coordination
