#include "coordinator/resolution_merge.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "common/core/hash.h"
#include "common/core/record.h"
#include "common/core/stage.h"

namespace sluice::coordination {
namespace {

// The lists of a resolution, each kept in its own file per shard.
enum Kind { kFates, kDecisions, kPairs, kOthers, kGolden, kKinds };
constexpr const char* kKindNames[kKinds] = {"fates", "decisions", "pairs", "others", "golden"};

// An item on file: its serialized size (4 bytes, little-endian), then it.
Status WriteItem(const google::protobuf::MessageLite& item, std::string* buf, std::FILE* f) {
  buf->clear();
  item.AppendToString(buf);
  const uint32_t n = static_cast<uint32_t>(buf->size());
  const unsigned char size[4] = {static_cast<unsigned char>(n), static_cast<unsigned char>(n >> 8),
                                 static_cast<unsigned char>(n >> 16),
                                 static_cast<unsigned char>(n >> 24)};
  if (std::fwrite(size, 1, 4, f) != 4 || std::fwrite(buf->data(), 1, n, f) != n) {
    return Status::IoError("cannot write a dedup shard's resolution to disk");
  }
  return Status::Ok();
}

// One shard's list of one kind, read back item by item.
template <typename T>
class ItemReader {
 public:
  explicit ItemReader(std::FILE* f) : f_(f) {}
  ItemReader(ItemReader&& o) noexcept : f_(std::exchange(o.f_, nullptr)), buf_(std::move(o.buf_)) {}
  ~ItemReader() {
    if (f_ != nullptr) std::fclose(f_);
  }
  // Reads the next item into `item`; false at the end of the list.
  Result<bool> Next(T* item) {
    unsigned char size[4];
    const size_t got = std::fread(size, 1, 4, f_);
    if (got == 0 && std::feof(f_)) return false;
    const uint32_t n =
        size[0] | uint32_t{size[1]} << 8 | uint32_t{size[2]} << 16 | uint32_t{size[3]} << 24;
    buf_.resize(n);
    if (got != 4 || std::fread(buf_.data(), 1, n, f_) != n || !item->ParseFromString(buf_)) {
      return Status::IoError("cannot read back a dedup shard's resolution");
    }
    return true;
  }

 private:
  std::FILE* f_;
  std::string buf_;
};

// The shards' lists of one kind merged: at each step the least head (by
// `Less`), the lowest shard's on a tie; with each list sorted, that is the
// stable sort of the lists joined in shard order.
template <typename T, typename Less>
class Merged {
 public:
  explicit Merged(std::vector<ItemReader<T>> readers)
      : readers_(std::move(readers)), heads_(readers_.size()), live_(readers_.size(), false) {}
  Status Start() {
    for (size_t s = 0; s < readers_.size(); ++s) {
      SLUICE_ASSIGN_OR_RETURN(bool live, readers_[s].Next(&heads_[s]));
      live_[s] = live;
    }
    return Status::Ok();
  }
  // The next item into `item`; false once every list is done.
  Result<bool> Next(T* item) {
    size_t least = readers_.size();
    for (size_t s = 0; s < readers_.size(); ++s) {
      if (live_[s] && (least == readers_.size() || Less()(heads_[s], heads_[least]))) least = s;
    }
    if (least == readers_.size()) return false;
    item->Swap(&heads_[least]);
    SLUICE_ASSIGN_OR_RETURN(bool live, readers_[least].Next(&heads_[least]));
    live_[least] = live;
    return true;
  }

 private:
  std::vector<ItemReader<T>> readers_;
  std::vector<T> heads_;
  std::vector<bool> live_;
};

struct FateLess {
  bool operator()(const v1::Fate& x, const v1::Fate& y) const {
    return std::tie(x.source(), x.key()) < std::tie(y.source(), y.key());
  }
};
struct DecisionLess {
  bool operator()(const v1::MatchDecision& x, const v1::MatchDecision& y) const {
    return std::tie(x.a_source(), x.a_key(), x.b_source(), x.b_key()) <
           std::tie(y.a_source(), y.a_key(), y.b_source(), y.b_key());
  }
};
struct ReviewLess {
  bool operator()(const v1::ReviewItem& x, const v1::ReviewItem& y) const {
    return std::tie(x.source(), x.key(), x.other_source(), x.other_key()) <
           std::tie(y.source(), y.key(), y.other_source(), y.other_key());
  }
};
struct GoldenLess {
  bool operator()(const v1::GoldenRecord& x, const v1::GoldenRecord& y) const {
    return std::tie(x.source(), x.key()) < std::tie(y.source(), y.key());
  }
};

// Cuts the merged lists into parts of bounded size, as a shard's
// ResolveWriter does: a part holds at least one item.
class PartCutter {
 public:
  PartCutter(v1::Commit head, size_t max_bytes, const std::function<Status(v1::Commit&&)>& take)
      : head_(std::move(head)), max_bytes_(max_bytes == 0 ? 1 : max_bytes), take_(take) {
    Begin();
  }
  // Moves every item of `merged` into parts; `add` adds one to a part.
  template <typename T, typename Less, typename Add>
  Status Drain(Merged<T, Less>& merged, Add add, uint64_t* count) {
    SLUICE_RETURN_IF_ERROR(merged.Start());
    T item;
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(bool more, merged.Next(&item));
      if (!more) return Status::Ok();
      const size_t size = item.ByteSizeLong() + 6;
      if (items_ > 0 && bytes_ + size > max_bytes_) SLUICE_RETURN_IF_ERROR(Send());
      add(part_)->Swap(&item);
      bytes_ += size;
      ++items_;
      ++*count;
    }
  }
  // The last part: the combined counts, the summary and the totals.
  Status Finish(uint64_t decisions, uint64_t review_items, uint64_t golden_records) {
    v1::ResolvePart* p = part_.mutable_resolve_part();
    p->set_last(true);
    p->set_parts(index_ + 1);
    p->set_match_decisions(decisions);
    p->set_review_items(review_items);
    p->set_golden_records(golden_records);
    *part_.mutable_counts() = head_.counts();
    *part_.mutable_match_summary() = head_.match_summary();
    return take_(std::move(part_));
  }

 private:
  void Begin() {
    part_.Clear();
    part_.set_stage(head_.stage());
    *part_.mutable_batch() = head_.batch();
    part_.set_epoch(head_.epoch());
    part_.mutable_resolve_part()->set_index(index_);
    bytes_ = items_ = 0;
  }
  Status Send() {
    SLUICE_RETURN_IF_ERROR(take_(std::move(part_)));
    ++index_;
    Begin();
    return Status::Ok();
  }

  v1::Commit head_;
  size_t max_bytes_;
  const std::function<Status(v1::Commit&&)>& take_;
  v1::Commit part_;
  uint32_t index_ = 0;
  size_t bytes_ = 0, items_ = 0;
};

}  // namespace

struct ShardResolutions::Shard {
  std::optional<ResolveParts> parts;  // from its part 0 on
  std::FILE* files[kKinds] = {};
  std::string buf;  // reused to write items
  bool resolved = false;
  v1::Commit last;  // once resolved: its last part's batch, counts and summary
  ResolutionDigest digest;

  void Close() {
    for (std::FILE*& f : files) {
      if (f != nullptr) std::fclose(f);
      f = nullptr;
    }
  }
};

ShardResolutions::ShardResolutions(std::string dir, uint32_t shards) : dir_(std::move(dir)) {
  if (dir_.empty()) {
    static std::atomic<uint64_t> made{0};
    dir_ = (std::filesystem::temp_directory_path() /
            ("sluice-resolving-" + std::to_string(::getpid()) + "-" + std::to_string(++made)))
               .string();
  }
  for (uint32_t s = 0; s < shards; ++s) shards_.push_back(std::make_unique<Shard>());
}

ShardResolutions::~ShardResolutions() { Clear(); }

static std::string PathOf(const std::string& dir, uint32_t shard, int kind) {
  return dir + "/shard-" + std::to_string(shard) + "." + kKindNames[kind];
}

Result<bool> ShardResolutions::Take(uint32_t shard, const v1::Commit& part) {
  if (shard >= shards_.size()) {
    return Status::InvalidArgument("dedup shard " + std::to_string(shard) + " of " +
                                   std::to_string(shards_.size()));
  }
  Shard& s = *shards_[shard];
  const uint32_t index = part.has_resolve_part() ? part.resolve_part().index() : 0;
  if (index == 0 && !s.resolved) {
    // Its resolution starts (again): what came of an earlier one goes.
    s.Close();
    s.parts.emplace(BatchName(part.batch()), part.epoch());
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    for (int k = 0; k < kKinds; ++k) {
      s.files[k] = std::fopen(PathOf(dir_, shard, k).c_str(), "wb");
      if (s.files[k] == nullptr) {
        s.Close();
        return Status::IoError("cannot write a dedup shard's resolution under " + dir_);
      }
    }
  }
  if (s.resolved || !s.parts) {
    return Status::Corruption("dedup resolution " + BatchName(part.batch()) + " of shard " +
                              std::to_string(shard) + ": part " + std::to_string(index) +
                              (s.resolved ? " after its last one" : " before its part 0"));
  }
  SLUICE_RETURN_IF_ERROR(s.parts->Take(part));
  for (const v1::Fate& f : part.fates())
    SLUICE_RETURN_IF_ERROR(WriteItem(f, &s.buf, s.files[kFates]));
  for (const v1::MatchDecision& d : part.match_decisions()) {
    SLUICE_RETURN_IF_ERROR(WriteItem(d, &s.buf, s.files[kDecisions]));
  }
  for (const v1::ReviewItem& r : part.review_items()) {
    SLUICE_RETURN_IF_ERROR(WriteItem(r, &s.buf, s.files[r.kind() == "pair" ? kPairs : kOthers]));
  }
  for (const v1::GoldenRecord& g : part.golden_records()) {
    SLUICE_RETURN_IF_ERROR(WriteItem(g, &s.buf, s.files[kGolden]));
  }
  if (!s.parts->complete()) return false;
  for (std::FILE* f : s.files) {
    if (std::fflush(f) != 0) return Status::IoError("cannot write a dedup shard's resolution");
  }
  s.Close();
  s.resolved = true;
  s.last.Clear();
  *s.last.mutable_batch() = part.batch();
  s.last.set_epoch(part.epoch());
  *s.last.mutable_counts() = part.counts();
  *s.last.mutable_match_summary() = part.match_summary();
  s.digest = s.parts->TakeDigest();
  s.parts.reset();
  return true;
}

ResolutionDigest ShardResolutions::TakeDigest(uint32_t shard) {
  return std::move(shards_.at(shard)->digest);
}

bool ShardResolutions::Resolved(uint32_t shard) const {
  return shard < shards_.size() && shards_[shard]->resolved;
}

const v1::StageCounts& ShardResolutions::Counts(uint32_t shard) const {
  return shards_.at(shard)->last.counts();
}

bool ShardResolutions::AllResolved() const {
  for (const auto& s : shards_) {
    if (!s->resolved) return false;
  }
  return !shards_.empty();
}

Status ShardResolutions::Emit(const std::string& source, uint64_t epoch, size_t part_bytes,
                              const std::function<Status(v1::Commit&&)>& take) {
  if (!AllResolved()) return Status::FailedPrecondition("not every dedup shard has resolved");
  std::vector<v1::Commit> lasts;
  for (const auto& s : shards_) lasts.push_back(s->last);
  v1::Commit head = CombineCounts(lasts);
  head.mutable_batch()->set_source(source);
  head.set_epoch(epoch);
  auto readers = [&]<typename T>(int kind, T*) -> Result<std::vector<ItemReader<T>>> {
    std::vector<ItemReader<T>> out;
    for (uint32_t s = 0; s < shards_.size(); ++s) {
      std::FILE* f = std::fopen(PathOf(dir_, s, kind).c_str(), "rb");
      if (f == nullptr) return Status::IoError("cannot read back a dedup shard's resolution");
      out.emplace_back(f);
    }
    return out;
  };
  PartCutter cut(std::move(head), part_bytes, take);
  uint64_t fates = 0, decisions = 0, review_items = 0, golden = 0;
  {
    SLUICE_ASSIGN_OR_RETURN(auto r, readers(kFates, static_cast<v1::Fate*>(nullptr)));
    Merged<v1::Fate, FateLess> m(std::move(r));
    SLUICE_RETURN_IF_ERROR(cut.Drain(
        m, [](v1::Commit& c) { return c.add_fates(); }, &fates));
  }
  {
    SLUICE_ASSIGN_OR_RETURN(auto r, readers(kDecisions, static_cast<v1::MatchDecision*>(nullptr)));
    Merged<v1::MatchDecision, DecisionLess> m(std::move(r));
    SLUICE_RETURN_IF_ERROR(cut.Drain(
        m, [](v1::Commit& c) { return c.add_match_decisions(); }, &decisions));
  }
  for (int kind : {kPairs, kOthers}) {
    SLUICE_ASSIGN_OR_RETURN(auto r, readers(kind, static_cast<v1::ReviewItem*>(nullptr)));
    Merged<v1::ReviewItem, ReviewLess> m(std::move(r));
    SLUICE_RETURN_IF_ERROR(cut.Drain(
        m, [](v1::Commit& c) { return c.add_review_items(); }, &review_items));
  }
  {
    SLUICE_ASSIGN_OR_RETURN(auto r, readers(kGolden, static_cast<v1::GoldenRecord*>(nullptr)));
    Merged<v1::GoldenRecord, GoldenLess> m(std::move(r));
    SLUICE_RETURN_IF_ERROR(cut.Drain(
        m, [](v1::Commit& c) { return c.add_golden_records(); }, &golden));
  }
  return cut.Finish(decisions, review_items, golden);
}

void ShardResolutions::RemoveFiles() {
  for (auto& s : shards_) s->Close();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void ShardResolutions::Clear() {
  RemoveFiles();
  for (auto& s : shards_) *s = Shard();
}

v1::Commit ShardResolutions::CombineCounts(const std::vector<v1::Commit>& lasts) {
  v1::Commit out;
  if (lasts.empty()) return out;
  out.set_stage(std::string(StageName(Stage::kDedupResolve)));
  *out.mutable_batch() = lasts.front().batch();
  out.set_epoch(lasts.front().epoch());
  v1::StageCounts& n = *out.mutable_counts();
  KeyChecksum in_sum, out_sum;
  v1::MatchSummary& summary = *out.mutable_match_summary();
  std::set<std::string> notes;
  std::map<int, uint64_t> bins;
  for (const v1::Commit& c : lasts) {
    const v1::StageCounts& s = c.counts();
    n.set_in(n.in() + s.in());
    n.set_out(n.out() + s.out());
    n.set_merged(n.merged() + s.merged());
    n.set_rejected(n.rejected() + s.rejected());
    n.set_review(n.review() + s.review());
    in_sum.AddHash(s.in_checksum());
    out_sum.AddHash(s.out_checksum());
    const v1::MatchSummary& m = c.match_summary();
    summary.set_comparisons(summary.comparisons() + m.comparisons());
    summary.set_merge_pairs(summary.merge_pairs() + m.merge_pairs());
    summary.set_review_pairs(summary.review_pairs() + m.review_pairs());
    summary.set_distinct_pairs(summary.distinct_pairs() + m.distinct_pairs());
    for (const v1::WeightBin& bin : m.weight_bins()) bins[bin.floor()] += bin.pairs();
    summary.set_merge_threshold(m.merge_threshold());
    summary.set_review_threshold(m.review_threshold());
    // Estimates are the same on every shard: each note once.
    for (const std::string& note : m.notes()) {
      if (notes.insert(note).second) summary.add_notes(note);
    }
  }
  for (const auto& [floor, pairs] : bins) {
    v1::WeightBin* bin = summary.add_weight_bins();
    bin->set_floor(floor);
    bin->set_pairs(pairs);
  }
  n.set_in_checksum(in_sum.value());
  n.set_out_checksum(out_sum.value());
  return out;
}

}  // namespace sluice::coordination
