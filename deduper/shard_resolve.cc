// Round 4 of a multi-shard resolve (docs/dedup.md#scale-out): every shard
// clusters the same named edges, then resolves what it owns over a universe
// of records it holds or fetches, with the single-shard Cluster().
#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <tuple>

#include "common/core/hash.h"
#include "deduper/dedup_internal.h"
#include "deduper/guardrails.h"
#include "deduper/shard_rounds.h"

namespace sluice::dedup_internal {
namespace {

std::string NameKey(const std::string& source, const std::string& key) {
  return source + '\x1f' + key;
}

}  // namespace

NamedClusters::NamedClusters(const std::vector<NamedEdge>& edges) {
  std::unordered_map<std::string, uint32_t> interned;  // "source\x1fkey"
  auto intern = [&](const SourceKey& k) {
    auto [it, added] = interned.emplace(NameKey(k.source, k.key), names_.size());
    if (added) names_.push_back(k);
    return it->second;
  };
  std::vector<std::pair<uint32_t, uint32_t>> links;
  for (const NamedEdge& e : edges) {
    if (e.edge.band == Band::kDistinct || e.a == e.b) continue;
    links.emplace_back(intern(e.a), intern(e.b));
  }
  std::unordered_map<std::string, uint32_t>().swap(interned);
  index_.reserve(names_.size());
  for (uint32_t i = 0; i < names_.size(); ++i) {
    index_.emplace_back(KeyHash(names_[i].source, names_[i].key), i);
  }
  std::sort(index_.begin(), index_.end());
  std::vector<uint32_t> parent(names_.size());
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (auto [a, b] : links) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
  root_.resize(names_.size());
  first_.assign(names_.size(), kNone);
  members_.resize(names_.size());
  for (uint32_t i = 0; i < names_.size(); ++i) {
    root_[i] = find(i);
    members_[root_[i]].push_back(i);
    uint32_t& f = first_[root_[i]];
    if (f == kNone || names_[i] < names_[f]) f = i;
  }
}

uint32_t NamedClusters::Find(const SourceKey& name) const {
  const uint64_t h = KeyHash(name.source, name.key);
  auto it = std::lower_bound(index_.begin(), index_.end(), std::pair<uint64_t, uint32_t>{h, 0});
  for (; it != index_.end() && it->first == h; ++it) {
    if (names_[it->second] == name) return it->second;  // hashes may collide
  }
  return kNone;
}

Result<std::vector<NamedEdge>> RoundFourEdges(const ShardMap& shards, const v1::DedupEdges& all) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<NamedEdge> edges, EdgesFromProto(all));
  KeepStewardEdges(shards, &edges);
  return edges;
}

Result<std::shared_ptr<const RoundFour>> PrepareRoundFour(const ShardMap& shards,
                                                          const v1::DedupEdges& all,
                                                          bool review_on_conflict) {
  auto four = std::make_shared<RoundFour>();
  SLUICE_ASSIGN_OR_RETURN(four->edges, RoundFourEdges(shards, all));
  four->review_on_conflict = review_on_conflict;
  if (review_on_conflict) {
    four->kept = four->edges;
  } else {
    four->cuts = CutChainsByName(four->edges);
    four->kept.reserve(four->edges.size());
    for (size_t e = 0; e < four->edges.size(); ++e) {
      if (four->cuts.cut[e].empty()) four->kept.push_back(four->edges[e]);
    }
  }
  four->clusters.emplace(four->kept);
  return std::shared_ptr<const RoundFour>(std::move(four));
}

std::map<uint32_t, RecordBatch> MembersToServe(const std::vector<Record>& records,
                                               const Schema& schema, const ShardMap& shards,
                                               const RoundFour& four) {
  std::map<uint32_t, RecordBatch> out;
  // The clusters every shard resolves: without the links the guardrails
  // cut (a record a cut link alone would have drawn in is not served).
  const NamedClusters& clusters = *four.clusters;
  // The first occurrences of home records in clusters other shards own.
  std::vector<Record> members;
  std::vector<uint32_t> owners;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (i > 0 && r.key == records[i - 1].key && r.source == records[i - 1].source) continue;
    if (shards.HomeOf(r.source, r.key) != shards.self()) continue;
    const uint32_t c = clusters.Find({r.source, r.key});
    if (c == NamedClusters::kNone) continue;
    const uint32_t owner = clusters.Owner(c, shards);
    if (owner == shards.self()) continue;
    members.push_back(r);
    owners.push_back(owner);
  }
  // Every one, even when the router also sent the owner a copy: owners
  // drop their guests before round 4 (ResolveWith), so that a shard's
  // round-4 memory is its home records and its clusters, not every record
  // its blocks drew in.
  for (uint32_t m = 0; m < members.size(); ++m) {
    RecordBatch& b = out[owners[m]];
    b.schema = schema;
    b.records.push_back(std::move(members[m]));
  }
  return out;
}

Result<Resolution> ResolveRouted(const RoutedInput& in, std::shared_ptr<const RoundFour> four,
                                 const DedupShard::MemberFetch& fetch,
                                 const v1::BatchId& id_template, size_t batch_size) {
  // The links the guardrails cut join nothing on any shard; their
  // decisions, and those of the distinct pairs that cut them, are recorded
  // by name below (SplitDecisions), as one shard records them.
  const bool hold_conflicts = four->review_on_conflict;
  const std::vector<NamedEdge>& edges = four->kept;
  const ShardMap& shards = in.shards;
  const uint32_t self = shards.self();
  std::vector<Record>& records = in.records;
  // Every shard's edges, and the clusters of them all, serve only to gather
  // the universe and its edges: released before Cluster (the round-4 peak).
  const NamedClusters& clusters = *four->clusters;
  auto owner_of = [&](const SourceKey& k) {
    const uint32_t c = clusters.Find(k);
    return c == NamedClusters::kNone ? shards.HomeOf(k.source, k.key) : clusters.Owner(c, shards);
  };

  // The members of the clusters this shard owns that are not its home
  // records, and the shards home to them.
  std::set<SourceKey> wanted;
  std::set<uint32_t> homes;
  std::vector<bool> seen_root(clusters.size(), false);
  for (uint32_t i = 0; i < clusters.size(); ++i) {
    const uint32_t r = clusters.root(i);
    if (seen_root[r] || clusters.Owner(i, shards) != self) continue;
    seen_root[r] = true;
    for (uint32_t m : clusters.Members(i)) {
      const SourceKey& k = clusters.name(m);
      const uint32_t home = shards.HomeOf(k.source, k.key);
      if (home == self) continue;
      wanted.insert(k);
      homes.insert(home);
    }
  }
  // Their home shards serve them all (MembersFor); a copy of one still held
  // here (none once ResolveWith has dropped the guests) is the first of this
  // shard's copies (canonical order).
  std::map<SourceKey, Record> fetched;
  for (uint32_t p : homes) {
    Result<std::vector<Record>> got = fetch(p);
    if (!got.ok()) {
      return got.status().WithContext("dedup members from shard " + std::to_string(p));
    }
    for (Record& r : *got) {
      SourceKey k{r.source, r.key};
      if (wanted.count(k)) fetched.emplace(std::move(k), std::move(r));
    }
  }

  // The universe: (record, its local index or none), canonical order.
  constexpr uint32_t kFetched = UINT32_MAX;
  struct Entry {
    Record record;
    uint32_t local;
    bool owned;
  };
  std::vector<Entry> universe;
  for (uint32_t i = 0; i < records.size(); ++i) {
    Record& r = records[i];
    const bool repeat = i > 0 && r.key == records[i - 1].key && r.source == records[i - 1].source;
    const SourceKey k{r.source, r.key};
    if (shards.HomeOf(r.source, r.key) == self) {
      // A first occurrence in a cluster owned elsewhere stays only so that
      // its repeats are rejected against it.
      universe.push_back({std::move(r), i, repeat || owner_of(k) == self});
    } else if (!repeat) {
      auto it = wanted.find(k);
      if (it == wanted.end()) continue;
      auto f = fetched.find(k);
      if (f != fetched.end()) {
        universe.push_back({std::move(f->second), kFetched, true});
        fetched.erase(f);
      } else {
        universe.push_back({std::move(r), i, true});
      }
      wanted.erase(it);
    }
  }
  for (auto& [k, r] : fetched) universe.push_back({std::move(r), kFetched, true});
  std::sort(universe.begin(), universe.end(), [](const Entry& x, const Entry& y) {
    return std::tie(x.record.source, x.record.key, x.local) <
           std::tie(y.record.source, y.record.key, y.local);
  });

  std::vector<Record> u_records;
  std::vector<Origin> u_origins;
  std::vector<uint8_t> owned;
  std::unordered_map<std::string, uint32_t> index;  // first occurrence of each name
  u_records.reserve(universe.size());
  for (Entry& e : universe) {
    const uint32_t at = static_cast<uint32_t>(u_records.size());
    index.emplace(NameKey(e.record.source, e.record.key), at);
    u_origins.push_back(e.local == kFetched ? Origin{} : in.origins[e.local]);
    owned.push_back(e.owned ? 1 : 0);
    u_records.push_back(std::move(e.record));
  }
  std::vector<Entry>().swap(universe);  // `= {}` would keep the buffers
  std::vector<Record>().swap(records);

  // The edges of the clusters it owns; the steward's distinct pairs whose
  // first record's cluster it owns, as decisions by name (the other record
  // may be held elsewhere). A name no shard holds (a steward's pair with a
  // record gone) takes no part.
  std::vector<MatchEdge> local;
  std::vector<v1::MatchDecision> distinct;
  for (const NamedEdge& e : edges) {
    if (owner_of(e.a) != self) continue;
    auto a = index.find(NameKey(e.a.source, e.a.key));
    if (a == index.end()) continue;
    // A distinct edge with both records here is a guardrail (guardrails.h)
    // that Cluster takes and records.
    auto b = index.find(NameKey(e.b.source, e.b.key));
    if (e.edge.band == Band::kDistinct && e.edge.rule == "steward" && b == index.end()) {
      distinct.push_back(DistinctDecision(e.edge, e.a, e.b));
      continue;
    }
    if (b == index.end()) continue;
    MatchEdge& m = local.emplace_back(e.edge);
    m.a = std::min(a->second, b->second);
    m.b = std::max(a->second, b->second);
  }
  if (!hold_conflicts) {
    std::vector<v1::MatchDecision> split = SplitDecisions(
        four->edges, four->cuts, [&](const SourceKey& k) { return owner_of(k) == self; });
    distinct.insert(distinct.end(), std::make_move_iterator(split.begin()),
                    std::make_move_iterator(split.end()));
  }
  four.reset();
  std::unordered_map<std::string, uint32_t>().swap(index);
  if (u_records.empty() && distinct.empty()) return Resolution{};
  const ClusterInput cluster_in{in.entity,  in.spec,    in.schema,       u_records,
                                u_origins,  in.batches, in.survivorship, in.golden,
                                ShardMap(), &owned,     in.judge,        in.spill};
  SLUICE_ASSIGN_OR_RETURN(Resolution out, Cluster(cluster_in, local, id_template, batch_size));
  if (!distinct.empty()) {
    // The decisions are packed (packed_messages.h): sorted by their names.
    std::vector<std::array<std::string, 4>> names;
    names.reserve(out.decisions.size() + distinct.size());
    for (const v1::MatchDecision& d : out.decisions) {
      names.push_back({d.a_source(), d.a_key(), d.b_source(), d.b_key()});
    }
    for (const v1::MatchDecision& d : distinct) {
      out.decisions.push_back(d);
      names.push_back({d.a_source(), d.a_key(), d.b_source(), d.b_key()});
    }
    out.decisions.StableSortFrom(0, [&](uint32_t x, uint32_t y) { return names[x] < names[y]; });
  }
  return out;
}

Result<std::vector<uint64_t>> StreamOutputs(const ShardMap& shards, const DedupSpec* spec,
                                            const std::vector<v1::DedupBlocks>& blocks,
                                            const RoundFour& four) {
  const uint32_t n = shards.count();
  std::vector<int64_t> out(n, 0);
  std::vector<bool> seen(n, false);
  for (const v1::DedupBlocks& b : blocks) {
    if (b.shard() >= n || seen[b.shard()]) {
      return Status::Internal("dedup round 4: round-1 summary of shard " +
                              std::to_string(b.shard()) + " is unexpected or repeated (" +
                              std::to_string(n) + " shards)");
    }
    seen[b.shard()] = true;
    out[b.shard()] = static_cast<int64_t>(b.records()) - static_cast<int64_t>(b.repeats());
  }
  if (blocks.size() != n) {
    return Status::Internal("dedup round 4: round-1 summaries of " + std::to_string(blocks.size()) +
                            " of " + std::to_string(n) + " shards");
  }
  // The clusters as every shard's Cluster() sees them: the same edges (a
  // named record is its key's first occurrence, never a rejected repeat),
  // so the same guardrails hold the same clusters for review.
  const bool hold_conflicts = four.review_on_conflict;
  const std::vector<NamedEdge>& edges = four.kept;  // guardrails.h
  const NamedClusters& clusters = *four.clusters;
  std::vector<uint32_t> strong(clusters.size());
  std::iota(strong.begin(), strong.end(), 0u);
  auto find = [&](uint32_t x) {
    while (strong[x] != x) x = strong[x] = strong[strong[x]];
    return x;
  };
  std::vector<bool> has_review(clusters.size(), false);
  // on_conflict: review, clusters holding a pair a distinct edge keeps apart.
  std::vector<bool> conflict(clusters.size(), false);
  const double weak_below = spec ? spec->weak_link_threshold : 0;
  for (const NamedEdge& e : edges) {
    if (hold_conflicts && e.edge.band == Band::kDistinct && !(e.a == e.b)) {
      const uint32_t a = clusters.Find(e.a), b = clusters.Find(e.b);
      if (a != NamedClusters::kNone && b != NamedClusters::kNone &&
          clusters.root(a) == clusters.root(b)) {
        conflict[clusters.root(a)] = true;
      }
    }
    if (e.edge.band == Band::kDistinct || e.a == e.b) continue;
    const uint32_t a = clusters.Find(e.a), b = clusters.Find(e.b);
    if (e.edge.band == Band::kReview) has_review[clusters.root(a)] = true;
    if (e.edge.band == Band::kMerge && (!e.edge.scored || e.edge.score >= weak_below)) {
      const uint32_t ra = find(a), rb = find(b);
      if (ra != rb) strong[std::max(ra, rb)] = std::min(ra, rb);
    }
  }
  const int64_t max_cluster = spec ? spec->max_cluster_size : 0;
  for (uint32_t i = 0; i < clusters.size(); ++i) {
    // Every clustered record leaves its home's singletons...
    const SourceKey& k = clusters.name(i);
    --out[shards.HomeOf(k.source, k.key)];
    if (clusters.root(i) != i) continue;
    // ...and each cluster not held for review outputs its survivor.
    const std::vector<uint32_t>& members = clusters.Members(i);
    const int64_t size = static_cast<int64_t>(members.size());
    bool held = has_review[i] || conflict[i] ||
                (spec && spec->fuzzy() && max_cluster > 0 && size > max_cluster);
    if (!held && size >= 3) {
      const uint32_t first = find(members[0]);
      for (uint32_t m : members) held = held || find(m) != first;
    }
    if (!held) ++out[clusters.Owner(i, shards)];
  }
  std::vector<uint64_t> counts(n);
  for (uint32_t s = 0; s < n; ++s) {
    if (out[s] < 0) {
      return Status::Internal("dedup round 4: shard " + std::to_string(s) + " would output " +
                              std::to_string(out[s]) + " records");
    }
    counts[s] = static_cast<uint64_t>(out[s]);
  }
  return counts;
}

}  // namespace sluice::dedup_internal
