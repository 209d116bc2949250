// Guest rows of the comparison pass (docs/dedup.md#guest-rows): a record's
// compared fields folded once, by the transformer's router, and laid out by
// the shard that owns one of its blocks beside the rows it folds itself.
// The bytes are those Prepare writes, so levels and codes do not depend on
// where a row was folded.
#include <cstdint>
#include <cstring>

#include "deduper/compare_pass.h"

namespace sluice::compare {

size_t PairComparer::MetaphoneColumns() const {
  size_t n = 0;
  for (const Column& c : columns_) n += c.metaphone ? 1 : 0;
  return n;
}

void PairComparer::FoldRow(const Record& r, std::string* out) const {
  const size_t codes = MetaphoneColumns();
  // A row is read as Slots: folded into aligned memory, then copied.
  thread_local std::vector<uint64_t> row, code;
  row.assign((RowBound(r) + 7) / 8 + 1, 0);
  code.assign(codes, 0);
  const size_t used = FoldInto(r, reinterpret_cast<char*>(row.data()), code.data());
  out->append(reinterpret_cast<const char*>(row.data()), used);
  out->append(reinterpret_cast<const char*>(code.data()), codes * sizeof(uint64_t));
}

bool PairComparer::RowFits(const char* row, size_t size) const {
  const size_t cols = columns_.size();
  if (size < cols * sizeof(Slot)) return false;
  for (size_t c = 0; c < cols; ++c) {
    Slot s;
    std::memcpy(&s, row + c * sizeof(Slot), sizeof s);
    if (columns_[c].integral) continue;
    const uint64_t off = static_cast<uint64_t>(s.integer) & 0xFFFFFFFF;
    const uint64_t len = static_cast<uint64_t>(s.integer) >> 32;
    if (off < cols * sizeof(Slot) || off + len > size) return false;
  }
  return true;
}

Status PairComparer::PrepareRows(const std::vector<Record>& records, GivenRow given,
                                 const void* ctx) {
  const size_t n = records.size(), cols = columns_.size();
  const size_t codes = MetaphoneColumns(), code_bytes = codes * sizeof(uint64_t);
  for (Comparison& cmp : comparisons_) cmp.level_cache.clear();
  // Rows folded here are laid out record by record in data_, so that
  // comparing a pair touches a few cache lines rather than a few per field;
  // an aligned given row stays where it is.
  auto in_place = [](const GivenBytes& g) {
    return g.data != nullptr && reinterpret_cast<uintptr_t>(g.data) % 8 == 0;
  };
  std::vector<uint64_t> offset(n, 0);
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    const GivenBytes g = given ? given(ctx, i) : GivenBytes{};
    if (g.data != nullptr && (g.size < code_bytes || !RowFits(g.data, g.size - code_bytes))) {
      return Status::Corruption("a guest row does not fit the plan's compared fields");
    }
    if (in_place(g)) continue;
    offset[i] = bytes;
    const size_t len = g.data != nullptr ? g.size - code_bytes : RowBound(records[i]);
    bytes += (len + 7) & ~size_t{7};
  }
  data_.assign(bytes / 8 + 1, 0);
  start_.assign(n, 0);
  metaphone_.assign(cols, {});
  std::vector<size_t> metaphone_cols;
  for (size_t c = 0; c < cols; ++c) {
    if (!columns_[c].metaphone) continue;
    metaphone_[c].assign(n, 0);
    metaphone_cols.push_back(c);
  }
  char* base = reinterpret_cast<char*>(data_.data());
  std::vector<uint64_t> code(codes, 0);
  for (size_t i = 0; i < n; ++i) {
    const GivenBytes g = given ? given(ctx, i) : GivenBytes{};
    char* row = in_place(g) ? g.data : base + offset[i];
    start_[i] = reinterpret_cast<uint64_t>(row);
    if (g.data != nullptr) {
      const size_t len = g.size - code_bytes;
      if (row != g.data) std::memcpy(row, g.data, len);
      std::memcpy(code.data(), g.data + len, code_bytes);
      for (size_t c = 0; c < cols; ++c) reinterpret_cast<Slot*>(row)[c].common = kNotCommon;
    } else {
      FoldInto(records[i], row, code.data());
    }
    for (size_t k = 0; k < codes; ++k) metaphone_[metaphone_cols[k]][i] = code[k];
  }
  for (size_t c = 0; c < cols; ++c) {
    if (columns_[c].similarity && !columns_[c].integral) RankCommonValues(c, n);
  }
  return Status::Ok();
}

}  // namespace sluice::compare
