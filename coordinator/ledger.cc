#include "coordinator/ledger.h"

#include <algorithm>

#include "common/audit/loaded_pack.h"
#include "common/core/hash.h"
#include "common/core/record.h"
#include "common/runtime/commit_keys.h"
#include "common/runtime/worker.h"
#include "deduper/shard_map.h"

namespace sluice {
namespace {

std::string Readable(const std::string& joined) {
  std::string s = joined;
  std::replace(s.begin(), s.end(), '\x1f', ':');
  return s;
}

}  // namespace

void FateTally::Add(const FateTally& o) {
  merged += o.merged;
  rejected += o.rejected;
  review += o.review;
  loaded += o.loaded;
  inserted += o.inserted;
  updated += o.updated;
  unchanged += o.unchanged;
  checksum.Merge(o.checksum);
}

uint64_t SourceTotals::Accounted() const {
  return fates.merged + fates.rejected + fates.review + fates.loaded;
}

bool SourceTotals::Balanced() const {
  return extracted == Accounted() && extracted_checksum.value() == fates.checksum.value();
}

std::optional<Ledger::StageKey> Ledger::UpstreamOf(StageKey key) {
  std::optional<Stage> up = InfoOf(key.first).upstream;
  if (!up) return std::nullopt;
  return StageKey{*up, 0};
}

std::vector<Ledger::StageKey> Ledger::DownstreamsOf(StageKey key) const {
  std::vector<StageKey> out;
  std::optional<Stage> down = DownstreamOf(key.first);
  if (!down) return out;
  const uint32_t shards = *down == Stage::kDedupIngest ? dedup_shards_ : 1;
  for (uint32_t s = 0; s < shards; ++s) out.emplace_back(*down, s);
  return out;
}

void Ledger::Lease(const std::string& batch, uint64_t epoch, std::optional<Stage> from_stage) {
  BatchEntry& e = batches_[batch];
  e.epoch = epoch;
  if (!from_stage) return;
  // The stage and every stage after it in its phase, on every dedup shard.
  const std::vector<Stage>& phase = StagesOf(InfoOf(*from_stage).phase);
  auto from = std::find(phase.begin(), phase.end(), *from_stage);
  std::erase_if(e.stages, [&](const auto& st) {
    return std::find(from, phase.end(), st.first.first) != phase.end();
  });
}

uint64_t Ledger::Epoch(const std::string& batch) const {
  auto it = batches_.find(batch);
  return it == batches_.end() ? 0 : it->second.epoch;
}

bool Ledger::Has(const std::string& batch, Stage stage) const {
  auto it = batches_.find(batch);
  if (it == batches_.end()) return false;
  const uint32_t shards = stage == Stage::kDedupIngest ? dedup_shards_ : 1;
  for (uint32_t s = 0; s < shards; ++s) {
    if (!it->second.stages.count({stage, s})) return false;
  }
  return true;
}

bool Ledger::HasIngest(const std::string& batch, uint32_t shard) const {
  auto it = batches_.find(batch);
  return it != batches_.end() && it->second.stages.count({Stage::kDedupIngest, shard}) > 0;
}

bool Ledger::Has(const v1::Commit& commit) const {
  std::optional<Stage> stage = StageNamed(commit.stage());
  if (!stage) return false;
  if (*stage == Stage::kDedupIngest)
    return HasIngest(BatchName(commit.batch()), commit.dedup_shard());
  return Has(BatchName(commit.batch()), *stage);
}

const v1::BatchRange* Ledger::Range(const std::string& batch) const {
  auto it = batches_.find(batch);
  if (it == batches_.end() || !it->second.has_range) return nullptr;
  return &it->second.range;
}

std::string Ledger::NameMissing(const StageEntry& upstream, const StageEntry& current,
                                std::optional<uint32_t> home_shard) const {
  if (!upstream.commit || !current.commit) return "";
  const ShardMap shards(dedup_shards_, 0);
  auto expected_here = [&](const std::string& joined) {
    if (!home_shard) return true;
    const size_t sep = joined.find('\x1f');
    if (sep == std::string::npos) return true;
    return shards.HomeOf(std::string_view(joined).substr(0, sep),
                         std::string_view(joined).substr(sep + 1)) == *home_shard;
  };
  std::set<std::string> seen;
  ForEachOutKey(*current.commit, [&](std::string_view k) { seen.emplace(k); });
  for (const auto& f : current.commit->fates()) {
    if (f.kind() != v1::FATE_WARNING) seen.insert(JoinKey(f.source(), f.key()));
  }
  ForEachWireLoad(*current.commit, [&](const WireLoad& w) {
    seen.insert(JoinKey(std::string(w.load.source), std::string(w.load.key)));
  });
  std::vector<std::string> missing, extra;
  std::vector<std::string> up_keys;
  ForEachOutKey(*upstream.commit, [&](std::string_view k) { up_keys.emplace_back(k); });
  std::set<std::string> sent(up_keys.begin(), up_keys.end());
  for (const auto& k : up_keys) {
    if (!seen.count(k) && expected_here(k)) missing.push_back(Readable(k));
  }
  for (const auto& k : seen) {
    if (!sent.count(k)) extra.push_back(Readable(k));
  }
  std::string out;
  auto list = [&](const char* what, const std::vector<std::string>& keys) {
    if (keys.empty()) return;
    out += std::string(out.empty() ? "" : "; ") + what + " " + std::to_string(keys.size()) + ": ";
    for (size_t i = 0; i < keys.size() && i < 10; ++i) out += (i ? ", " : "") + keys[i];
    if (keys.size() > 10) out += ", ...";
  };
  list("missing key(s)", missing);
  list("unexpected key(s)", extra);
  return out;
}

Status Ledger::CheckPair(const std::string& batch, StageKey up_stage, const StageEntry& up,
                         StageKey stage, const StageEntry& current) const {
  if (stage.first == Stage::kDedupIngest && !up.routes.empty()) {
    // Records routed by key (docs/dedup.md#scale-out): each shard must get
    // exactly what the transform sent it.
    const uint32_t shard = stage.second;
    auto route = up.routes.find(shard);
    const uint64_t sent = route == up.routes.end() ? 0 : route->second.first;
    const uint64_t sum = route == up.routes.end() ? 0 : route->second.second;
    if (sent == current.in && sum == current.in_checksum) return Status::Ok();
    std::string detail = NameMissing(up, current, shard);
    return Status::Corruption(
        "batch " + batch + ": " + Label(up_stage) + " sent " + std::to_string(sent) +
        " record(s) to dedup shard " + std::to_string(shard) + " but it received " +
        std::to_string(current.in) + (detail.empty() ? " (key checksums differ)" : "; " + detail));
  }
  if (up.out == current.in && up.out_checksum == current.in_checksum) return Status::Ok();
  std::string detail = NameMissing(up, current);
  return Status::Corruption("batch " + batch + ": " + Label(up_stage) + " passed on " +
                            std::to_string(up.out) + " record(s) but " + Label(stage) +
                            " received " + std::to_string(current.in) +
                            (detail.empty() ? " (key checksums differ)" : "; " + detail));
}

Status Ledger::Apply(const v1::Commit& c) {
  // A resolution is digested, never kept (nor copied).
  if (StageNamed(c.stage()) == Stage::kDedupResolve) {
    return ApplyResolution(BatchName(c.batch()), ResolutionDigest::Of(c));
  }
  return Apply(std::make_shared<const v1::Commit>(c));
}

Status Ledger::Apply(std::shared_ptr<const v1::Commit> commit) {
  const v1::Commit& c = *commit;
  const std::string batch = BatchName(c.batch());
  const std::optional<Stage> stage = StageNamed(c.stage());
  if (stage == Stage::kDedupResolve) return ApplyResolution(batch, ResolutionDigest::Of(c));
  if (!stage || InfoOf(*stage).phase == BatchPhase::kWhole) {
    return Status::InvalidArgument("commit of " + batch + " at '" + c.stage() +
                                   "', which is no batch stage of the pipeline");
  }
  // A dedup shard's ingest is its own entry; every other stage has one.
  const StageKey key{*stage, *stage == Stage::kDedupIngest ? c.dedup_shard() : 0};
  BatchEntry& entry = batches_[batch];
  if (entry.epoch != 0 && c.epoch() != entry.epoch) {
    return Status::FailedPrecondition("stale commit of " + batch + " at " + Label(key) +
                                      ": epoch " + std::to_string(c.epoch()) + ", current " +
                                      std::to_string(entry.epoch));
  }
  if (entry.epoch == 0) entry.epoch = c.epoch();
  StageEntry s;
  s.commit = commit;
  const auto& n = c.counts();
  s.in = n.in();
  s.out = n.out();
  s.in_checksum = n.in_checksum();
  s.out_checksum = n.out_checksum();
  s.source = c.batch().source();
  for (const v1::DedupRoute& r : c.dedup_routes())
    s.routes[r.shard()] = {r.records(), r.checksum()};
  uint64_t terminal = 0;
  KeyChecksum terminal_sum;
  // A loader's plain LOADED fates, packed (loaded_pack.h): tallied as the
  // fates below, without a string of their own.
  FateTally* last_tally = nullptr;
  std::string_view last_source;
  const bool whole = ForEachWireLoad(c, [&](const WireLoad& w) {
    if (last_tally == nullptr || w.load.source != last_source) {
      last_tally = &s.fates[std::string(w.load.source)];
      last_source = w.load.source;
    }
    FateTally& t = *last_tally;
    ++t.loaded;
    if (w.rule == "inserted") ++t.inserted;
    if (w.rule == "updated") ++t.updated;
    if (w.rule == "unchanged") ++t.unchanged;
    const uint64_t h = KeyHash(w.load.source, w.load.key);
    t.checksum.AddHash(h);
    terminal_sum.AddHash(h);
    ++terminal;
  });
  if (!whole) {
    return Status::Corruption("batch " + batch + ": " + Label(key) +
                              " sent damaged packed LOADED fates");
  }
  for (const auto& f : c.fates()) {
    FateTally& t = s.fates[f.source()];
    switch (f.kind()) {
      case v1::FATE_MERGED:
        ++t.merged;
        break;
      case v1::FATE_REJECTED:
        ++t.rejected;
        break;
      case v1::FATE_REVIEW:
        ++t.review;
        break;
      case v1::FATE_LOADED:
        ++t.loaded;
        if (f.rule() == "inserted") ++t.inserted;
        if (f.rule() == "updated") ++t.updated;
        if (f.rule() == "unchanged") ++t.unchanged;
        break;
      default:
        continue;  // warnings are not terminal
    }
    t.checksum.Add(f.source(), f.key());
    terminal_sum.Add(f.source(), f.key());
    ++terminal;
  }
  for (const auto& [field, units] : c.decimal_sums()) s.decimal_sums[field] = units;
  if (*stage == Stage::kExtract) {
    entry.range = c.range();
    entry.has_range = true;
  }
  const std::optional<StageKey> up_key = UpstreamOf(key);
  auto up = up_key ? entry.stages.find(*up_key) : entry.stages.end();
  // Inside the stage: every record that came in went out or got a fate.
  KeyChecksum expect;
  expect.AddHash(s.out_checksum);
  expect.Merge(terminal_sum);
  if (s.in != s.out + terminal || s.in_checksum != expect.value()) {
    std::string detail;
    if (up != entry.stages.end()) {
      std::optional<uint32_t> shard;
      if (*stage == Stage::kDedupIngest && !up->second.routes.empty()) shard = key.second;
      detail = NameMissing(up->second, s, shard);
    }
    return Status::Corruption("batch " + batch + ": " + Label(key) + " took in " +
                              std::to_string(s.in) + " record(s) but accounted for " +
                              std::to_string(s.out + terminal) +
                              (detail.empty() ? "" : "; " + detail));
  }
  // Across stages, whichever of two neighbouring commits arrives last.
  if (up != entry.stages.end()) {
    SLUICE_RETURN_IF_ERROR(CheckPair(batch, up->first, up->second, key, s));
  }
  for (StageKey down_key : DownstreamsOf(key)) {
    auto down = entry.stages.find(down_key);
    if (down != entry.stages.end()) {
      SLUICE_RETURN_IF_ERROR(CheckPair(batch, key, s, down->first, down->second));
    }
  }
  entry.stages[key] = std::move(s);
  // Key lists are only needed until both neighbours have been checked.
  for (auto& [k, st] : entry.stages) {
    const std::optional<StageKey> u = UpstreamOf(k);
    bool up_done = !u || entry.stages.count(*u);
    bool down_done = true;
    for (StageKey d : DownstreamsOf(k)) down_done = down_done && entry.stages.count(d);
    if (up_done && down_done) {
      st.commit.reset();
    }
  }
  return Status::Ok();
}

Status Ledger::CheckResolution(const std::string& resolution,
                               const std::vector<std::string>& ingest,
                               const std::vector<std::string>& output) const {
  auto it = resolutions_.find(resolution);
  if (it == resolutions_.end())
    return Status::FailedPrecondition("no resolution for " + resolution);
  const v1::StageCounts& n = it->second.counts;
  uint64_t in = 0, out = 0;
  KeyChecksum in_sum, out_sum;
  for (const auto& b : ingest) {
    // What the transform passed on: on N dedup shards each shard ingests
    // only its part, and the shards' resolutions together account for all.
    auto entry = batches_.find(b);
    if (entry == batches_.end()) continue;  // counted as missing below
    auto st = entry->second.stages.find({Stage::kTransform, 0});
    if (st == entry->second.stages.end()) st = entry->second.stages.find({Stage::kDedupIngest, 0});
    if (st == entry->second.stages.end()) continue;
    in += st->second.out;
    in_sum.AddHash(st->second.out_checksum);
  }
  for (const auto& b : output) {
    // An output batch whose emission is not (or no longer) recorded cannot
    // be accounted for: an error that halts, never an exception that aborts.
    auto entry = batches_.find(b);
    auto st = entry == batches_.end() ? decltype(entry->second.stages.end()){}
                                      : entry->second.stages.find({Stage::kDedupOutput, 0});
    if (entry == batches_.end() || st == entry->second.stages.end()) {
      return Status::Corruption("deduper output " + b + " of " + resolution +
                                " has no recorded emission");
    }
    out += st->second.out;
    out_sum.AddHash(st->second.out_checksum);
  }
  if (in != n.in() || in_sum.value() != n.in_checksum()) {
    return Status::Corruption("deduper resolved " + std::to_string(n.in()) + " record(s) but " +
                              std::to_string(in) + " were ingested (" + resolution + ")");
  }
  if (out != n.out() || out_sum.value() != n.out_checksum()) {
    return Status::Corruption("deduper emitted " + std::to_string(out) + " record(s) but decided " +
                              std::to_string(n.out()) + " survivors (" + resolution + ")");
  }
  return Status::Ok();
}

std::map<std::string, SourceTotals> Ledger::Totals(
    const std::vector<std::string>& batches, const std::vector<std::string>& resolutions) const {
  std::map<std::string, SourceTotals> totals;
  for (const auto& b : batches) {
    auto it = batches_.find(b);
    if (it == batches_.end()) continue;
    for (const auto& [stage, st] : it->second.stages) {
      if (stage.first == Stage::kExtract) {
        totals[st.source].extracted += st.in;
        totals[st.source].extracted_checksum.AddHash(st.in_checksum);
      }
      for (const auto& [source, tally] : st.fates) totals[source].fates.Add(tally);
    }
  }
  for (const auto& name : resolutions) {
    auto it = resolutions_.find(name);
    if (it == resolutions_.end()) continue;
    for (const auto& [source, tally] : it->second.fates) totals[source].fates.Add(tally);
  }
  return totals;
}

std::map<std::string, int64_t> Ledger::DecimalSums(const std::vector<std::string>& batches) const {
  std::map<std::string, int64_t> sums;
  for (const auto& b : batches) {
    auto it = batches_.find(b);
    if (it == batches_.end()) continue;
    auto load = it->second.stages.find({Stage::kLoad, 0});
    if (load == it->second.stages.end()) continue;
    for (const auto& [field, units] : load->second.decimal_sums) sums[field] += units;
  }
  return sums;
}

}  // namespace sluice
