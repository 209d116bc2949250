#include "deduper/guest_rows.h"

#include <algorithm>
#include <cstring>

#include "deduper/fuzzy_matcher.h"

namespace sluice::guest {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool GetBytes(std::string_view* in, std::string_view* out) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

void PutBytes(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

}  // namespace

uint64_t Row::Key(size_t rule) const {
  uint8_t b[8];
  std::memcpy(b, keys + rule * 8, 8);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

Writer::Writer(std::string* out, size_t rules) : out_(out), rules_(rules) {
  if (out_->empty()) PutVarint(out_, rules_);
}

void Writer::Add(const Record& r, uint32_t position, const uint64_t* keys,
                 std::string_view folded) {
  PutVarint(out_, 0);
  PutBytes(out_, r.source);
  PutBytes(out_, r.key);
  PutVarint(out_, position);
  PutRow(keys, folded);
}

void Writer::AddHome(uint32_t index, const uint64_t* keys, std::string_view folded) {
  PutVarint(out_, 1);
  PutVarint(out_, index);
  PutRow(keys, folded);
}

void Writer::PutRow(const uint64_t* keys, std::string_view folded) {
  for (size_t k = 0; k < rules_; ++k) {
    for (int i = 0; i < 8; ++i) out_->push_back(static_cast<char>(keys[k] >> (8 * i)));
  }
  PutBytes(out_, folded);
}

Status ForEach(std::string_view data, size_t rules, size_t home_records,
               const std::function<void(const Row&)>& fn) {
  if (data.empty()) return Status::Ok();
  uint64_t given = 0;
  if (!GetVarint(&data, &given)) return Status::Corruption("guest rows: no rule count");
  if (given != rules) {
    return Status::Corruption("guest rows carry " + std::to_string(given) +
                              " blocking keys per record, the plan blocks on " +
                              std::to_string(rules) + " rules");
  }
  while (!data.empty()) {
    Row row;
    uint64_t kind = 0, position = 0;
    if (!GetVarint(&data, &kind) || kind > 1) return Status::Corruption("guest rows: bad entry");
    row.home = kind == 1;
    if (row.home) {
      if (!GetVarint(&data, &position) || position >= home_records) {
        return Status::Corruption("guest rows: a home row for no record of the batch");
      }
      row.index = static_cast<uint32_t>(position);
    } else if (!GetBytes(&data, &row.source) || !GetBytes(&data, &row.key) ||
               !GetVarint(&data, &position) || position > UINT32_MAX) {
      return Status::Corruption("guest rows: truncated");
    } else {
      row.position = static_cast<uint32_t>(position);
    }
    if (data.size() < rules * 8) return Status::Corruption("guest rows: truncated keys");
    row.keys = data.data();
    data.remove_prefix(rules * 8);
    if (!GetBytes(&data, &row.folded)) return Status::Corruption("guest rows: truncated row");
    fn(row);
  }
  return Status::Ok();
}

size_t Count(std::string_view data) {
  std::string_view head = data;
  uint64_t rules = 0;
  if (data.empty() || !GetVarint(&head, &rules)) return 0;
  size_t n = 0;
  if (!ForEach(data, rules, UINT32_MAX, [&](const Row& r) { n += r.home ? 0 : 1; }).ok()) {
    return 0;
  }
  return n;
}

void Store::Clear() {
  rules_ = 0;
  std::vector<uint64_t>().swap(keys_);  // `= {}` would keep the buffers
  chunks_.clear();
  chunks_.shrink_to_fit();
  used_ = kChunk;
  std::vector<uint64_t>().swap(at_);
  std::vector<uint32_t>().swap(sizes_);
}

uint32_t Store::Add(const Row& row, size_t rules) {
  rules_ = rules;
  for (size_t k = 0; k < rules; ++k) keys_.push_back(row.Key(k));
  return PutFolded(row.folded);
}

uint32_t Store::PutFolded(std::string_view folded) {
  const auto [chunk, offset] = Place(folded.size());
  std::memcpy(chunks_[chunk].get() + offset, folded.data(), folded.size());
  at_.push_back(static_cast<uint64_t>(chunk) << 32 | offset);
  sizes_.push_back(static_cast<uint32_t>(folded.size()));
  return static_cast<uint32_t>(sizes_.size() - 1);
}

std::pair<size_t, size_t> Store::Place(size_t bytes) {
  const size_t need = (bytes + 7) & ~size_t{7};
  if (used_ + need > kChunk) {
    chunks_.push_back(std::make_unique<char[]>(std::max(kChunk, need)));
    used_ = 0;
  }
  used_ += need;
  return {chunks_.size() - 1, used_ - need};
}

std::vector<uint32_t> Store::Keep(const std::vector<uint8_t>& keep) {
  std::vector<uint32_t> index(sizes_.size(), kHome);
  // Rows are rewritten in the same packing from the first chunk on: a
  // row's new place is never after its old one, so memmove in place.
  std::vector<std::unique_ptr<char[]>> chunks = std::move(chunks_);
  chunks_.clear();
  std::vector<const char*> bases;  // the old chunks, wherever they move
  for (const auto& c : chunks) bases.push_back(c.get());
  used_ = kChunk;
  uint32_t kept = 0;
  for (uint32_t g = 0; g < sizes_.size(); ++g) {
    if (g >= keep.size() || !keep[g]) continue;
    const size_t chunk = at_[g] >> 32;
    const char* from = bases[chunk] + (at_[g] & 0xFFFFFFFF);
    const size_t need = (sizes_[g] + 7) & ~size_t{7};
    if (used_ + need > kChunk) {
      // The next chunk, reused; a row larger than a chunk has one of its
      // own, reused only when it is that row's.
      const size_t next = chunks_.size();
      chunks_.push_back(need > kChunk && next != chunk ? std::make_unique<char[]>(need)
                                                       : std::move(chunks[next]));
      used_ = 0;
    }
    std::memmove(chunks_.back().get() + used_, from, sizes_[g]);
    std::memmove(keys_.data() + kept * rules_, keys_.data() + g * rules_,
                 rules_ * sizeof(uint64_t));
    at_[kept] = static_cast<uint64_t>(chunks_.size() - 1) << 32 | used_;
    sizes_[kept] = sizes_[g];
    used_ += need;
    index[g] = kept++;
  }
  keys_.resize(kept * rules_);
  keys_.shrink_to_fit();
  at_.resize(kept);
  at_.shrink_to_fit();
  sizes_.resize(kept);
  sizes_.shrink_to_fit();
  return index;  // the chunks not reused are released here
}

std::vector<uint8_t> NeededForBlocks(const std::vector<Record>& records,
                                     const std::vector<uint32_t>& guest_of, const Store& store,
                                     const ShardMap& shards) {
  const size_t n = records.size(), rules = store.rules();
  std::vector<uint8_t> need(n, 1);
  if (shards.single() || guest_of.size() != n) return need;
  for (uint32_t g : guest_of) {
    if (g == kHome) return need;
  }
  // Read in the store's order (rows arrive batch by batch, records are in
  // canonical order): the keys of a row are adjacent, so one pass over them
  // is sequential instead of a cache miss per record.
  std::vector<uint32_t> record_of(store.size(), kHome);
  for (size_t i = 0; i < n; ++i) record_of[guest_of[i]] = static_cast<uint32_t>(i);
  for (size_t i = 0; i < n; ++i) {
    need[i] = shards.HomeOf(records[i].source, records[i].key) == shards.self();
  }
  // Per rule, (key, record) of the blocks this shard owns, one per record
  // holding it, sorted: the records of a run of two or more are in a block
  // of two or more. (A lookup per record and rule in the sorted keys was a
  // cache miss per halving.)
  std::vector<std::pair<uint64_t, uint32_t>> owned;
  for (size_t r = 0; r < rules; ++r) {
    owned.clear();
    for (uint32_t g = 0; g < store.size(); ++g) {
      const uint64_t k = store.Key(g, r);
      if (record_of[g] != kHome && k != 0 && shards.OwnsBlock(k)) {
        owned.emplace_back(k, record_of[g]);
      }
    }
    std::sort(owned.begin(), owned.end());
    for (size_t j = 0; j < owned.size();) {
      size_t end = j + 1;
      while (end < owned.size() && owned[end].first == owned[j].first) ++end;
      if (end - j >= 2) {
        for (; j < end; ++j) need[owned[j].second] = 1;
      }
      j = end;
    }
  }
  return need;
}

Result<std::vector<uint64_t>> Keys(const MatchInput& in, const BlockingRule& rule, size_t r,
                                   const std::vector<std::string>& placeholders) {
  const bool given = in.guest_of != nullptr && in.guests != nullptr && r < in.guests->rules();
  if (!given) return BlockingKeys(rule, placeholders, in.schema, in.records);
  const std::vector<uint32_t>& of = *in.guest_of;
  std::vector<uint64_t> keys(in.records.size(), 0);
  if (in.guests->size() < in.records.size()) {
    // Some records came without a row (BlockingKeys gives a guest none).
    SLUICE_ASSIGN_OR_RETURN(keys, BlockingKeys(rule, placeholders, in.schema, in.records));
  }
  for (size_t i = 0; i < of.size() && i < keys.size(); ++i) {
    if (of[i] != kHome) keys[i] = in.guests->Key(of[i], r);
  }
  return keys;
}

Status PrepareRows(const MatchInput& in, compare::PairComparer* comparer) {
  if (in.guest_of == nullptr || in.guests == nullptr) {
    comparer->Prepare(in.schema, in.records);
    return Status::Ok();
  }
  auto given = [](const void* ctx, size_t i) -> compare::PairComparer::GivenBytes {
    const MatchInput& m = *static_cast<const MatchInput*>(ctx);
    const uint32_t g = i < m.guest_of->size() ? (*m.guest_of)[i] : kHome;
    if (g == kHome) return {};
    return {m.guests->Folded(g), m.guests->FoldedSize(g)};
  };
  return comparer->PrepareRows(in.records, given, &in);
}

}  // namespace sluice::guest
