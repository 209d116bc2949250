#include "coordinator/delta_book.h"

#include <algorithm>
#include <string_view>

#include "common/core/key_buckets.h"
#include "common/core/record.h"
#include "common/runtime/commit_keys.h"

namespace sluice::coordination {

std::string DeltaBook::MarkOf(const std::string& entity, const std::string& source) const {
  auto it = marks_.find({entity, source});
  return it == marks_.end() ? "" : it->second;
}

void DeltaBook::Fill(v1::Lease* lease) const {
  if (lease->kind() != v1::Lease::KIND_EXTRACT_SOURCE &&
      lease->kind() != v1::Lease::KIND_EXTRACT_BATCH) {
    return;
  }
  // A stream's lease names its first batch in next_sequence (its batch's
  // sequence is 0); a single batch's, in its batch.
  const uint64_t first = lease->kind() == v1::Lease::KIND_EXTRACT_SOURCE
                             ? lease->next_sequence()
                             : lease->batch().sequence();
  auto r = residents_.find({lease->batch().entity(), lease->batch().source()});
  if (r != residents_.end() && first >= r->second.first) {
    v1::BatchRange* range = lease->mutable_range();
    range->clear_watermark_above();
    range->mutable_resident_keys()->Assign(r->second.keys.begin(), r->second.keys.end());
    return;
  }
  const std::string mark = MarkOf(lease->batch().entity(), lease->batch().source());
  if (!mark.empty()) lease->mutable_range()->set_watermark_above(mark);
}

void DeltaBook::SetResidents(const std::string& entity, const std::string& source, uint64_t first,
                             std::vector<std::string> keys) {
  Residents& r = residents_[{entity, source}];
  r.first = first;
  r.keys = std::move(keys);
}

bool DeltaBook::IsResidentBatch(const v1::BatchId& id) const {
  auto r = residents_.find({id.entity(), id.source()});
  return r != residents_.end() && id.sequence() >= r->second.first;
}

void DeltaBook::ResidentsRead(const std::string& entity, const std::string& source,
                              uint64_t records) {
  auto r = residents_.find({entity, source});
  if (r != residents_.end()) r->second.read += records;
}

uint64_t DeltaBook::ResidentsOf(const std::string& entity, const std::string& source) const {
  auto r = residents_.find({entity, source});
  return r == residents_.end() ? 0 : r->second.read;
}

v1::Lease DeltaBook::BeginScan(v1::BatchId id, std::vector<std::string> known) {
  id.set_sequence(kScanSequence);
  Scan scan;
  scan.buckets = KeyBucketsFor(known.size());
  KeyBuckets buckets(scan.buckets);
  scan.known_bucket.reserve(known.size());
  for (const std::string& key : known) scan.known_bucket.push_back(buckets.Add(id.source(), key));
  scan.known = std::move(known);
  scan.lease.set_kind(v1::Lease::KIND_SCAN_KEYS);
  *scan.lease.mutable_batch() = id;
  for (uint64_t sum : buckets.sums()) scan.lease.add_key_buckets(sum);
  v1::Lease out = scan.lease;
  scans_[{id.entity(), id.source()}] = std::move(scan);
  return out;
}

void DeltaBook::Leased(const v1::Lease& lease) {
  auto it = scans_.find({lease.batch().entity(), lease.batch().source()});
  if (it != scans_.end() && !it->second.done) it->second.lease.set_epoch(lease.epoch());
}

std::vector<v1::Lease> DeltaBook::PendingScans() const {
  std::vector<v1::Lease> out;
  for (const auto& [at, scan] : scans_) {
    if (!scan.done) out.push_back(scan.lease);
  }
  return out;
}

bool DeltaBook::OnScanned(const v1::Commit& commit) {
  auto it = scans_.find({commit.batch().entity(), commit.batch().source()});
  if (it == scans_.end()) return false;
  Scan& scan = it->second;
  if (scan.done || commit.epoch() != scan.lease.epoch() ||
      commit.batch().run_id() != scan.lease.batch().run_id()) {
    return false;
  }
  const std::string& source = commit.batch().source();
  // The source's keys in the buckets that differ, sorted: views into the
  // commit, which outlives them.
  std::vector<std::string_view> present;
  present.reserve(static_cast<size_t>(std::max<int64_t>(0, OutKeyCount(commit))));
  ForEachOutKey(commit, [&](std::string_view joined) {
    const size_t sep = joined.find('\x1f');
    if (sep != std::string_view::npos && joined.substr(0, sep) == source) {
      present.push_back(joined.substr(sep + 1));
    }
  });
  std::sort(present.begin(), present.end());
  std::vector<bool> differs(scan.buckets, false);
  for (uint32_t b : commit.differing_buckets()) {
    if (b < scan.buckets) differs[b] = true;
  }
  for (size_t i = 0; i < scan.known.size(); ++i) {
    if (!differs[scan.known_bucket[i]]) continue;
    if (!std::binary_search(present.begin(), present.end(), std::string_view(scan.known[i]))) {
      scan.deleted.push_back(std::move(scan.known[i]));
    }
  }
  std::sort(scan.deleted.begin(), scan.deleted.end());
  scan.source_keys = commit.counts().in();
  scan.done = true;
  scan.known = {};
  scan.known_bucket = {};
  return true;
}

bool DeltaBook::Scanned(const std::string& entity) const {
  for (const auto& [at, scan] : scans_) {
    if (at.first == entity && !scan.done) return false;
  }
  return true;
}

std::map<std::string, std::vector<std::string>> DeltaBook::Deleted(
    const std::string& entity) const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [at, scan] : scans_) {
    if (at.first == entity && scan.done) out[at.second] = scan.deleted;
  }
  return out;
}

uint32_t DeltaBook::BucketsOf(const std::string& entity, const std::string& source) const {
  auto it = scans_.find({entity, source});
  return it == scans_.end() ? 0 : it->second.buckets;
}

std::map<std::string, uint64_t> DeltaBook::SourceKeys(const std::string& entity) const {
  std::map<std::string, uint64_t> out;
  for (const auto& [at, scan] : scans_) {
    if (at.first == entity && scan.done) out[at.second] = scan.source_keys;
  }
  return out;
}

void DeltaBook::Forget(const std::string& entity) {
  std::erase_if(scans_, [&entity](const auto& kv) { return kv.first.first == entity; });
  std::erase_if(residents_, [&entity](const auto& kv) { return kv.first.first == entity; });
}

}  // namespace sluice::coordination
