#include "coordinator/ledger.h"

#include <algorithm>

#include "common/core/record.h"
#include "common/runtime/worker.h"
#include "deduper/shard_map.h"

namespace sluice {
namespace {

// A dedup shard's ingest stage: "dedup_ingest" or "dedup_ingest/<shard>".
bool IsDedupIngest(const std::string& stage) {
  return stage == "dedup_ingest" || stage.rfind("dedup_ingest/", 0) == 0;
}

// The shard of a dedup ingest stage.
uint32_t IngestShard(const std::string& stage) {
  return stage.size() > 13 ? static_cast<uint32_t>(std::stoul(stage.substr(13))) : 0;
}

// The stage whose output feeds `stage` within a batch, or "".
std::string UpstreamOf(const std::string& stage) {
  if (stage == "transform") return "extract";
  if (IsDedupIngest(stage)) return "transform";
  if (stage == "validate") return "dedup";
  if (stage == "load") return "validate";
  return "";
}

std::string DownstreamOf(const std::string& stage) {
  if (stage == "extract") return "transform";
  if (stage == "transform") return "dedup_ingest";
  if (stage == "dedup") return "validate";
  if (stage == "validate") return "load";
  return "";
}

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

const std::vector<std::string>& Ledger::IngestStages() {
  static const std::vector<std::string> kStages = {"extract", "transform", "dedup_ingest"};
  return kStages;
}

const std::vector<std::string>& Ledger::OutputStages() {
  static const std::vector<std::string> kStages = {"dedup", "validate", "load"};
  return kStages;
}

void Ledger::Lease(const std::string& batch, uint64_t epoch, const std::string& from_stage) {
  BatchEntry& e = batches_[batch];
  e.epoch = epoch;
  if (from_stage.empty()) return;
  for (const auto* stages : {&IngestStages(), &OutputStages()}) {
    auto it = std::find(stages->begin(), stages->end(), from_stage);
    if (it == stages->end()) continue;
    for (; it != stages->end(); ++it) e.stages.erase(*it);
    // Every dedup shard's ingest goes with the shard 0 one.
    if (stages == &IngestStages()) {
      std::erase_if(e.stages, [](const auto& st) { return IsDedupIngest(st.first); });
    }
  }
}

uint64_t Ledger::Epoch(const std::string& batch) const {
  auto it = batches_.find(batch);
  return it == batches_.end() ? 0 : it->second.epoch;
}

bool Ledger::Has(const std::string& batch, const std::string& stage) const {
  auto it = batches_.find(batch);
  if (it == batches_.end() || it->second.stages.count(stage) == 0) return false;
  if (stage != "dedup_ingest") return true;
  for (uint32_t s = 1; s < dedup_shards_; ++s) {
    if (!it->second.stages.count("dedup_ingest/" + std::to_string(s))) return false;
  }
  return true;
}

std::vector<std::string> Ledger::DownstreamsOf(const std::string& stage) const {
  std::vector<std::string> out;
  const std::string down = DownstreamOf(stage);
  if (!down.empty()) out.push_back(down);
  if (down == "dedup_ingest") {
    for (uint32_t s = 1; s < dedup_shards_; ++s) out.push_back("dedup_ingest/" + std::to_string(s));
  }
  return out;
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
  std::set<std::string> seen(current.commit->out_keys().begin(), current.commit->out_keys().end());
  for (const auto& f : current.commit->fates()) {
    if (f.kind() != v1::FATE_WARNING) seen.insert(JoinKey(f.source(), f.key()));
  }
  std::vector<std::string> missing, extra;
  const auto& up_keys = upstream.commit->out_keys();
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

Status Ledger::CheckPair(const std::string& batch, const std::string& up_stage,
                         const StageEntry& up, const std::string& stage,
                         const StageEntry& current) const {
  if (IsDedupIngest(stage) && !up.routes.empty()) {
    // Records routed by key (docs/dedup.md#scale-out): each shard must get
    // exactly what the transform sent it.
    const uint32_t shard = IngestShard(stage);
    auto route = up.routes.find(shard);
    const uint64_t sent = route == up.routes.end() ? 0 : route->second.first;
    const uint64_t sum = route == up.routes.end() ? 0 : route->second.second;
    if (sent == current.in && sum == current.in_checksum) return Status::Ok();
    std::string detail = NameMissing(up, current, shard);
    return Status::Corruption("batch " + batch + ": " + up_stage + " sent " + std::to_string(sent) +
                              " record(s) to dedup shard " + std::to_string(shard) +
                              " but it received " + std::to_string(current.in) +
                              (detail.empty() ? " (key checksums differ)" : "; " + detail));
  }
  if (up.out == current.in && up.out_checksum == current.in_checksum) return Status::Ok();
  std::string detail = NameMissing(up, current);
  return Status::Corruption("batch " + batch + ": " + up_stage + " passed on " +
                            std::to_string(up.out) + " record(s) but " + stage + " received " +
                            std::to_string(current.in) +
                            (detail.empty() ? " (key checksums differ)" : "; " + detail));
}

Status Ledger::Apply(const v1::Commit& c) { return Apply(std::make_shared<const v1::Commit>(c)); }

Status Ledger::Apply(std::shared_ptr<const v1::Commit> commit) {
  const v1::Commit& c = *commit;
  const std::string batch = BatchName(c.batch());
  if (c.stage() == "dedup_resolve") {
    resolutions_[batch] = c;
    const auto& n = c.counts();
    KeyChecksum fates;
    for (const auto& f : c.fates()) fates.Add(f.source(), f.key());
    KeyChecksum sum;
    sum.AddHash(n.out_checksum());
    sum.Merge(fates);
    if (n.in() != n.out() + n.merged() + n.rejected() + n.review() ||
        n.in_checksum() != sum.value()) {
      return Status::Corruption("dedup resolution of " + batch + " does not add up: in " +
                                std::to_string(n.in()) + ", out " + std::to_string(n.out()) +
                                ", merged " + std::to_string(n.merged()) + ", rejected " +
                                std::to_string(n.rejected()));
    }
    return Status::Ok();
  }
  BatchEntry& entry = batches_[batch];
  if (entry.epoch != 0 && c.epoch() != entry.epoch) {
    return Status::FailedPrecondition("stale commit of " + batch + " at " + c.stage() + ": epoch " +
                                      std::to_string(c.epoch()) + ", current " +
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
  if (c.stage() == "extract") {
    entry.range = c.range();
    entry.has_range = true;
  }
  // Inside the stage: every record that came in went out or got a fate.
  KeyChecksum expect;
  expect.AddHash(s.out_checksum);
  expect.Merge(terminal_sum);
  if (s.in != s.out + terminal || s.in_checksum != expect.value()) {
    std::string detail;
    auto up = entry.stages.find(UpstreamOf(c.stage()));
    if (up != entry.stages.end()) {
      std::optional<uint32_t> shard;
      if (IsDedupIngest(c.stage()) && !up->second.routes.empty()) shard = IngestShard(c.stage());
      detail = NameMissing(up->second, s, shard);
    }
    return Status::Corruption("batch " + batch + ": " + c.stage() + " took in " +
                              std::to_string(s.in) + " record(s) but accounted for " +
                              std::to_string(s.out + terminal) +
                              (detail.empty() ? "" : "; " + detail));
  }
  // Across stages, whichever of two neighbouring commits arrives last.
  auto up = entry.stages.find(UpstreamOf(c.stage()));
  if (up != entry.stages.end()) {
    SLUICE_RETURN_IF_ERROR(CheckPair(batch, up->first, up->second, c.stage(), s));
  }
  for (const std::string& stage : DownstreamsOf(c.stage())) {
    auto down = entry.stages.find(stage);
    if (down != entry.stages.end()) {
      SLUICE_RETURN_IF_ERROR(CheckPair(batch, c.stage(), s, down->first, down->second));
    }
  }
  entry.stages[c.stage()] = std::move(s);
  // Key lists are only needed until both neighbours have been checked.
  for (auto& [name, st] : entry.stages) {
    bool up_done = UpstreamOf(name).empty() || entry.stages.count(UpstreamOf(name));
    bool down_done = true;
    for (const std::string& d : DownstreamsOf(name)) down_done = down_done && entry.stages.count(d);
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
  const auto& n = it->second.counts();
  uint64_t in = 0, out = 0;
  KeyChecksum in_sum, out_sum;
  for (const auto& b : ingest) {
    // What the transform passed on: on N dedup shards each shard ingests
    // only its part, and the shards' resolutions together account for all.
    auto entry = batches_.find(b);
    if (entry == batches_.end()) continue;  // counted as missing below
    auto st = entry->second.stages.find("transform");
    if (st == entry->second.stages.end()) st = entry->second.stages.find("dedup_ingest");
    if (st == entry->second.stages.end()) continue;
    in += st->second.out;
    in_sum.AddHash(st->second.out_checksum);
  }
  for (const auto& b : output) {
    const auto& st = batches_.at(b).stages.at("dedup");
    out += st.out;
    out_sum.AddHash(st.out_checksum);
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
      if (stage == "extract") {
        totals[st.source].extracted += st.in;
        totals[st.source].extracted_checksum.AddHash(st.in_checksum);
      }
      for (const auto& [source, tally] : st.fates) totals[source].fates.Add(tally);
    }
  }
  for (const auto& name : resolutions) {
    auto it = resolutions_.find(name);
    if (it == resolutions_.end()) continue;
    for (const auto& f : it->second.fates()) {
      FateTally& t = totals[f.source()].fates;
      if (f.kind() == v1::FATE_MERGED)
        ++t.merged;
      else if (f.kind() == v1::FATE_REJECTED)
        ++t.rejected;
      else if (f.kind() == v1::FATE_REVIEW)
        ++t.review;
      else
        continue;
      t.checksum.Add(f.source(), f.key());
    }
  }
  return totals;
}

std::map<std::string, int64_t> Ledger::DecimalSums(const std::vector<std::string>& batches) const {
  std::map<std::string, int64_t> sums;
  for (const auto& b : batches) {
    auto it = batches_.find(b);
    if (it == batches_.end()) continue;
    auto load = it->second.stages.find("load");
    if (load == it->second.stages.end()) continue;
    for (const auto& [field, units] : load->second.decimal_sums) sums[field] += units;
  }
  return sums;
}

}  // namespace sluice
