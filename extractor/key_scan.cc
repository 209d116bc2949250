#include "extractor/key_scan.h"

#include <algorithm>
#include <vector>

#include "common/core/key_buckets.h"
#include "common/runtime/worker.h"

namespace sluice {

Result<v1::Commit> ScanKeys(Source& source, const std::string& source_name, const v1::Lease& lease,
                            size_t batch_rows) {
  const uint32_t n = static_cast<uint32_t>(lease.key_buckets_size());
  if (n == 0) return Status::InvalidArgument("a key scan needs key buckets");
  // Every key is kept until the sums are known: only those of the buckets
  // that differ are sent. In one flat vector: a vector per bucket (125,000
  // of them at 1M keys) cost a cache miss per key and a reallocation per
  // bucket, most of the scan's CPU. A key twice in the source (a legacy key
  // need not be unique) counts once, as in the target: a source that hands
  // its keys over in bytewise order (SQLite and PostgreSQL read ORDER BY the
  // key) has its repeats side by side; the keys of any other are sorted once
  // at the end.
  std::vector<std::string> keys;
  bool ordered = true;
  uint64_t read = 0;
  auto add = [&](const std::string& key) {
    ++read;
    if (!keys.empty()) {
      const int order = key.compare(keys.back());
      if (order == 0) return;
      if (order < 0) ordered = false;
    }
    keys.push_back(key);
  };
  for (;;) {
    RecordBatch batch;
    std::vector<v1::Fate> rejects;
    SLUICE_ASSIGN_OR_RETURN(bool got, source.Next(batch_rows, &batch, &rejects));
    if (!got) break;
    for (const Record& r : batch.records) add(r.key);
    for (const v1::Fate& f : rejects) {
      if (f.key().rfind("line:", 0) != 0) add(f.key());
    }
  }
  if (!ordered) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  }
  v1::Commit commit;
  commit.set_stage(kScanKeysStage);
  *commit.mutable_batch() = lease.batch();
  commit.set_epoch(lease.epoch());
  commit.mutable_counts()->set_in(read);
  KeyBuckets buckets(n);
  std::vector<uint32_t> bucket_of(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) bucket_of[i] = buckets.Add(source_name, keys[i]);
  std::vector<bool> differs(n, false);
  for (uint32_t b = 0; b < n; ++b) {
    if (buckets.sums()[b] == lease.key_buckets(static_cast<int>(b))) continue;
    differs[b] = true;
    commit.add_differing_buckets(b);
  }
  // The keys of the buckets that differ, bucket by bucket, each bucket's in
  // key order (the keys' own).
  std::vector<std::pair<uint32_t, size_t>> sent;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (differs[bucket_of[i]]) sent.emplace_back(bucket_of[i], i);
  }
  std::sort(sent.begin(), sent.end());
  for (const auto& [b, i] : sent) commit.add_out_keys(JoinKey(source_name, keys[i]));
  return commit;
}

}  // namespace sluice
