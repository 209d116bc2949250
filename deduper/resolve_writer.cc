#include "deduper/resolve_writer.h"

#include <utility>

namespace sluice {
namespace {

// Moves items [*next, end) of `from` into `to` while the part has room:
// `bytes` counts what the part holds (a field's tag and length included).
template <typename T, typename Add>
void Fill(const PackedMessages<T>& from, size_t* next, size_t max_bytes, size_t* bytes,
          size_t* items, Add add) {
  while (*next < from.size()) {
    const std::string_view packed = from.bytes(*next);
    const size_t size = packed.size() + 6;
    if (*items > 0 && *bytes + size > max_bytes) return;
    add()->ParseFromArray(packed.data(), static_cast<int>(packed.size()));
    ++*next;
    *bytes += size;
    ++*items;
  }
}

}  // namespace

ResolveWriter::ResolveWriter(v1::Commit head, Resolution& res, size_t max_bytes)
    : head_(std::move(head)),
      fates_(std::move(res.fates)),
      decisions_(std::move(res.decisions)),
      review_items_(std::move(res.review_items)),
      golden_(std::move(res.golden)),
      max_bytes_(max_bytes == 0 ? 1 : max_bytes) {
  res.fates.clear();
  res.decisions.clear();
  res.review_items.clear();
  res.golden.clear();
}

v1::Commit ResolveWriter::Next() {
  v1::Commit part;
  part.set_stage(head_.stage());
  *part.mutable_batch() = head_.batch();
  part.set_epoch(head_.epoch());
  part.set_dedup_shard(head_.dedup_shard());
  size_t bytes = 0, items = 0;
  Fill(fates_, &fate_, max_bytes_, &bytes, &items, [&] { return part.add_fates(); });
  Fill(decisions_, &decision_, max_bytes_, &bytes, &items,
       [&] { return part.add_match_decisions(); });
  Fill(review_items_, &review_item_, max_bytes_, &bytes, &items,
       [&] { return part.add_review_items(); });
  Fill(golden_, &golden_record_, max_bytes_, &bytes, &items,
       [&] { return part.add_golden_records(); });
  v1::ResolvePart* p = part.mutable_resolve_part();
  p->set_index(index_++);
  done_ = golden_record_ == golden_.size() && review_item_ == review_items_.size() &&
          decision_ == decisions_.size() && fate_ == fates_.size();
  if (!done_) return part;
  p->set_last(true);
  p->set_parts(index_);
  p->set_match_decisions(decisions_.size());
  p->set_review_items(review_items_.size());
  p->set_golden_records(golden_.size());
  *part.mutable_counts() = head_.counts();
  *part.mutable_match_summary() = head_.match_summary();
  // Sent: the packed items go.
  fates_.clear();
  decisions_.clear();
  review_items_.clear();
  golden_.clear();
  return part;
}

}  // namespace sluice
