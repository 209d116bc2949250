#include "coordinator/delta_book.h"

#include <algorithm>
#include <set>

#include "common/core/key_buckets.h"
#include "common/core/record.h"

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
  const std::string mark = MarkOf(lease->batch().entity(), lease->batch().source());
  if (!mark.empty()) lease->mutable_range()->set_watermark_above(mark);
}

v1::Lease DeltaBook::BeginScan(v1::BatchId id, const std::vector<std::string>& known) {
  id.set_sequence(kScanSequence);
  Scan scan;
  KeyBuckets buckets(kKeyBuckets);
  for (const std::string& key : known) scan.known[buckets.Add(id.source(), key)].push_back(key);
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
  std::set<std::string> present;
  for (const std::string& joined : commit.out_keys()) {
    const size_t sep = joined.find('\x1f');
    if (sep != std::string::npos && joined.compare(0, sep, source) == 0) {
      present.insert(joined.substr(sep + 1));
    }
  }
  for (uint32_t b : commit.differing_buckets()) {
    auto known = scan.known.find(b);
    if (known == scan.known.end()) continue;
    for (const std::string& key : known->second) {
      if (!present.count(key)) scan.deleted.push_back(key);
    }
  }
  std::sort(scan.deleted.begin(), scan.deleted.end());
  scan.source_keys = commit.counts().in();
  scan.done = true;
  scan.known.clear();
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

std::map<std::string, uint64_t> DeltaBook::SourceKeys(const std::string& entity) const {
  std::map<std::string, uint64_t> out;
  for (const auto& [at, scan] : scans_) {
    if (at.first == entity && scan.done) out[at.second] = scan.source_keys;
  }
  return out;
}

void DeltaBook::Forget(const std::string& entity) {
  std::erase_if(scans_, [&entity](const auto& kv) { return kv.first.first == entity; });
}

}  // namespace sluice::coordination
