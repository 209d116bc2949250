#include "common/runtime/commit_keys.h"

#include "common/core/hash.h"
#include "common/runtime/crash_trail.h"
#include "common/runtime/worker.h"

namespace sluice {

void AppendPackedKey(std::string_view source, std::string_view key, std::string* packed) {
  uint64_t n = source.size() + 1 + key.size();
  while (n >= 0x80) {
    packed->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  packed->push_back(static_cast<char>(n));
  packed->append(source);
  packed->push_back('\x1f');
  packed->append(key);
}

namespace commit_keys_internal {

bool NextPackedKey(std::string_view* rest, std::string_view* key, bool* damaged) {
  if (rest->empty()) return false;
  uint64_t n = 0;
  for (int shift = 0;; shift += 7) {
    if (rest->empty() || shift > 63) {
      *damaged = true;
      return false;
    }
    const auto byte = static_cast<unsigned char>(rest->front());
    rest->remove_prefix(1);
    n |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (n > rest->size()) {
    *damaged = true;
    return false;
  }
  *key = rest->substr(0, n);
  rest->remove_prefix(n);
  return true;
}

}  // namespace commit_keys_internal

// ---- MakeCommit and JoinKey (worker.h), which fill a commit's key lists ----

std::string JoinKey(const std::string& source, const std::string& key) {
  std::string s;
  s.reserve(source.size() + key.size() + 1);
  s.append(source).push_back('\x1f');
  s.append(key);
  return s;
}

v1::Commit MakeCommit(const std::string& stage, const RecordBatch& in,
                      const std::vector<Record>& passed, const std::vector<v1::Fate>& fates) {
  v1::Commit c;
  c.set_stage(stage);
  *c.mutable_batch() = in.id;
  c.set_epoch(in.epoch);
  *c.mutable_range() = in.range;
  auto* counts = c.mutable_counts();
  counts->set_in(in.records.size());
  counts->set_in_checksum(in.KeyChecksumValue());
  KeyChecksum out;
  // Packed in one string, not a string per record.
  std::string* keys = c.mutable_packed_out_keys();
  if (!passed.empty()) keys->reserve(passed.size() * (passed.front().key.size() + 8));
  for (const auto& r : passed) {
    out.Add(r.source, r.key);
    AppendPackedKey(r.source, r.key, keys);
  }
  counts->set_out(passed.size());
  counts->set_out_checksum(out.value());
  for (const auto& f : fates) {
    switch (f.kind()) {
      case v1::FATE_MERGED:
        counts->set_merged(counts->merged() + 1);
        break;
      case v1::FATE_REJECTED:
        counts->set_rejected(counts->rejected() + 1);
        break;
      case v1::FATE_REVIEW:
        counts->set_review(counts->review() + 1);
        break;
      default:
        break;
    }
    *c.add_fates() = f;
  }
  return c;
}

bool TakesCommitCredit(const v1::Envelope& message) {
  return message.has_commit() && message.commit().stage() != kStartStage;
}

int64_t OutKeyCount(const v1::Commit& commit) {
  int64_t n = 0;
  if (!ForEachOutKey(commit, [&n](std::string_view) { ++n; })) return -1;
  return n;
}

}  // namespace sluice
