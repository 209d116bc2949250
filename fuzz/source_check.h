// The checks the source harnesses (csv_source, jsonl_source) share: a
// source read to its end terminates, every batch read again after Seek is
// the same (DESIGN.md: a batch can be extracted again byte-identically), and
// every rejected row is sendable (its Fate serializes and parses back).
#pragma once

#include <vector>

#include "common/connectors/connector.h"
#include "fuzz/fuzz_input.h"

namespace sluice::fuzz {

inline bool SameRecords(const RecordBatch& a, const RecordBatch& b) {
  if (a.records.size() != b.records.size()) return false;
  for (size_t i = 0; i < a.records.size(); ++i) {
    const Record& x = a.records[i];
    const Record& y = b.records[i];
    if (x.source != y.source || x.key != y.key || x.line != y.line ||
        x.content_hash != y.content_hash || !(x.values == y.values)) {
      return false;
    }
  }
  return true;
}

inline void CheckFates(const std::vector<v1::Fate>& fates) {
  for (const v1::Fate& f : fates) {
    CheckUtf8(f.key(), "reject key is not utf-8");
    CheckUtf8(f.reason(), "reject reason is not utf-8");
    CheckUtf8(f.value(), "reject value is not utf-8");
    CheckUtf8(f.field(), "reject field is not utf-8");
    v1::Fate back;
    Check(back.ParseFromString(f.SerializeAsString()), "reject does not parse back");
  }
}

// `input_size` bounds the number of batches: each one reads a row at least.
inline void ReadAndReread(Source& source, size_t max_rows, size_t input_size) {
  struct Read {
    RecordBatch batch;
    std::vector<v1::Fate> rejects;
  };
  std::vector<Read> reads;
  for (;;) {
    Read r;
    Result<bool> more = source.Next(max_rows, &r.batch, &r.rejects);
    if (!more.ok() || !*more) break;
    Check(r.batch.records.size() + r.rejects.size() <= max_rows, "batch larger than asked");
    Check(r.batch.range.end_offset() > r.batch.range.begin_offset(), "batch read no bytes");
    Check(reads.size() <= input_size, "source never ends");
    for (const Record& rec : r.batch.records) {
      Check(rec.values.size() == source.schema().fields.size(), "ragged record");
    }
    CheckFates(r.rejects);
    reads.push_back(std::move(r));
  }
  for (const Read& r : reads) {
    Check(source.Seek(r.batch.range).ok(), "cannot seek to a batch read before");
    Read again;
    Result<bool> more = source.Next(max_rows, &again.batch, &again.rejects);
    Check(more.ok() && *more, "a batch read before is gone");
    Check(SameRecords(r.batch, again.batch), "records differ when read again");
    Check(again.batch.range.SerializeAsString() == r.batch.range.SerializeAsString(),
          "range differs when read again");
    Check(again.rejects.size() == r.rejects.size(), "rejects differ when read again");
    for (size_t i = 0; i < r.rejects.size(); ++i) {
      Check(again.rejects[i].SerializeAsString() == r.rejects[i].SerializeAsString(),
            "reject differs when read again");
    }
  }
}

}  // namespace sluice::fuzz
