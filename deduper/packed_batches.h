// A resolution's output batches held in their wire form until sent
// (docs/dedup.md#one-shards-memory): each batch is encoded once when it is
// cut (EncodeBatch, about 0.13 KB a record for the consolidation plan
// against about 0.65 KB decoded) and, given a PackedSpill, written to the
// resolution's spill file; it is decoded again when read (by value). Its
// record count, sequence and key checksum are kept beside it, so that
// counting and scheduling read no batch. Not thread-safe, reads included.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "common/core/record.h"
#include "common/runtime/codec.h"
#include "deduper/packed_messages.h"

namespace sluice {

class PackedBatches {
 public:
  size_t size() const { return meta_.size(); }
  bool empty() const { return meta_.empty(); }
  // From now on, full chunks go to `spill`; null: held in memory.
  void SpillTo(std::shared_ptr<PackedSpill> spill) { packed_.SpillTo(std::move(spill)); }

  void push_back(const RecordBatch& b) {
    EncodeBatch(b, &wire_);
    packed_.push_back(wire_);
    meta_.push_back({b.id.sequence(), wire_.key_checksum(), b.records.size()});
    records_ += b.records.size();
  }
  // Batch i, decoded. A batch this list encoded that does not decode is a
  // bug or a damaged spill: it aborts, as a spill that cannot be read does.
  RecordBatch operator[](size_t i) const {
    Result<RecordBatch> b = DecodeBatch(packed_[i]);
    if (!b.ok()) {
      std::fprintf(stderr, "packed batches: batch %zu does not decode: %s\n", i,
                   b.status().ToString().c_str());
      std::abort();
    }
    return std::move(*b);
  }
  RecordBatch back() const { return (*this)[size() - 1]; }
  uint64_t sequence(size_t i) const { return meta_[i].sequence; }
  uint64_t key_checksum(size_t i) const { return meta_[i].checksum; }
  size_t records(size_t i) const { return meta_[i].records; }
  uint64_t total_records() const { return records_; }

  void clear() {
    packed_.clear();
    std::vector<Meta>().swap(meta_);
    wire_.Clear();
    records_ = 0;
  }

  using const_iterator = ByValueIterator<PackedBatches, RecordBatch>;
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

 private:
  struct Meta {
    uint64_t sequence = 0;
    uint64_t checksum = 0;
    size_t records = 0;
  };
  PackedMessages<v1::RecordBatch> packed_;
  std::vector<Meta> meta_;
  v1::RecordBatch wire_;  // reused
  uint64_t records_ = 0;
};

}  // namespace sluice
