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
  // The keys of every bucket are kept until the sums are known: only those
  // of the buckets that differ are sent. The memory is the key set's (kept
  // in flat vectors, sorted once at the end, not in a node per key). A key
  // twice in the source (a legacy key need not be unique) counts once, as
  // in the target.
  std::vector<std::vector<std::string>> keys(n);
  uint64_t read = 0;
  auto add = [&](const std::string& key) {
    keys[KeyBucketOf(KeyHash(source_name, key), n)].push_back(key);
    ++read;
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
  for (std::vector<std::string>& bucket : keys) {
    std::sort(bucket.begin(), bucket.end());
    bucket.erase(std::unique(bucket.begin(), bucket.end()), bucket.end());
  }
  v1::Commit commit;
  commit.set_stage(kScanKeysStage);
  *commit.mutable_batch() = lease.batch();
  commit.set_epoch(lease.epoch());
  commit.mutable_counts()->set_in(read);
  KeyBuckets buckets(n);
  for (const std::vector<std::string>& bucket : keys) {
    for (const std::string& key : bucket) buckets.Add(source_name, key);
  }
  for (uint32_t b = 0; b < n; ++b) {
    if (buckets.sums()[b] == lease.key_buckets(static_cast<int>(b))) continue;
    commit.add_differing_buckets(b);
    for (const std::string& key : keys[b]) commit.add_out_keys(JoinKey(source_name, key));
  }
  return commit;
}

}  // namespace sluice
