// Clustering, guardrails, survivors and the golden record: the second half
// of a resolution, after matching (docs/dedup.md).
#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <span>

#include "common/runtime/codec.h"
#include "common/runtime/review_item.h"
#include "deduper/cluster_fates.h"
#include "deduper/dedup_internal.h"
#include "deduper/guardrails.h"

namespace sluice::dedup_internal {
namespace {

class UnionFind {
 public:
  explicit UnionFind(size_t n) : parent_(n), size_(n, 1) {
    std::iota(parent_.begin(), parent_.end(), 0u);
  }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];  // path halving
      x = parent_[x];
    }
    return x;
  }
  void Union(uint32_t a, uint32_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
  }

 private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
};

// A record's part in the resolution. kUnmerged: a member of a cluster no
// member of which passes validation, not the one that goes on for it: its
// own validation fate, here.
enum class Part : uint8_t { kSingleton, kSurvivor, kMerged, kRejected, kReview, kUnmerged };

}  // namespace

Result<Resolution> Cluster(const ClusterInput& in, std::vector<MatchEdge>& edges,
                           const v1::BatchId& id_template, size_t batch_size) {
  const std::string& entity = in.entity;
  const DedupSpec* spec = in.spec;
  const Schema& schema = in.schema;
  std::vector<Record>& records = in.records;
  const std::vector<Origin>& origins = in.origins;
  const std::vector<IngestedBatch>& batches = in.batches;
  const SurvivorshipRule* survivorship = in.survivorship;
  const GoldenRecordBuilder* golden = in.golden;
  const ShardMap& shards = in.shards;
  Resolution out;
  if (records.empty()) return out;
  // Written as made, read back when sent: held whole, a resolution of
  // millions of records is as large as its records.
  out.fates.SpillTo(in.spill);
  out.decisions.SpillTo(in.spill);
  out.review_items.SpillTo(in.spill);
  out.golden.SpillTo(in.spill);
  out.batches.SpillTo(in.spill);
  if ((in.survivorship == nullptr || in.golden == nullptr) && !edges.empty()) {
    return Status::Internal("dedup: edges without survivorship rules");
  }
  const uint32_t n = static_cast<uint32_t>(records.size());
  // A record held by name gets its values back where they are read.
  auto unpack = [&](uint32_t i) -> Status {
    if (in.values == nullptr || !records[i].values.empty() || i >= in.packed_of->size() ||
        (*in.packed_of)[i] == PackedValues::kNone) {
      return Status::Ok();
    }
    SLUICE_ASSIGN_OR_RETURN(records[i].values, in.values->Get(schema, (*in.packed_of)[i]));
    return Status::Ok();
  };
  // Let go of again once read (when it can be decoded again).
  auto release = [&](uint32_t i) {
    if (in.values != nullptr && i < in.packed_of->size() &&
        (*in.packed_of)[i] != PackedValues::kNone) {
      std::vector<Value>().swap(records[i].values);
    }
  };
  std::vector<Part> part(n, Part::kSingleton);

  // (a) A source that repeats a primary key: the first occurrence goes on,
  // every later one (adjacent after Canonicalize) is rejected and takes no
  // further part.
  size_t fate_count = 0;
  for (uint32_t i = 1; i < n; ++i) {
    if (records[i].key == records[i - 1].key && records[i].source == records[i - 1].source) {
      part[i] = Part::kRejected;
      ++fate_count;
    }
  }

  // (b) Match, then cluster the linked records: merge and review edges
  // join components; only strong merge edges join `strong`, so a component
  // that `strong` splits is held together by a weak link.
  // A chain through a decisive disagreement is cut at its weakest link.
  const double weak_below = spec ? spec->weak_link_threshold : 0;
  std::vector<uint8_t> repeat(n);
  for (uint32_t i = 0; i < n; ++i) repeat[i] = part[i] == Part::kRejected;
  ChainCuts cuts = CutChains(records, edges, repeat);
  // guardrails.on_conflict: review: nothing is cut; the cluster holding a
  // kept-apart pair is held whole (below), each link recorded as held.
  const bool hold_conflicts = spec && spec->review_on_conflict;
  if (hold_conflicts) cuts.cut.assign(edges.size(), {});
  std::vector<bool> live(edges.size(), false);
  UnionFind clusters(n), strong(n);
  std::vector<bool> has_review(n, false);
  for (size_t e = 0; e < edges.size(); ++e) {
    const MatchEdge& edge = edges[e];
    if (edge.a >= n || edge.b >= n) return Status::Internal("dedup: matcher edge out of range");
    if (edge.a == edge.b || part[edge.a] == Part::kRejected || part[edge.b] == Part::kRejected ||
        edge.band == Band::kDistinct || !cuts.cut[e].empty()) {
      continue;
    }
    live[e] = true;
    const uint32_t ea = static_cast<uint32_t>(edge.a), eb = static_cast<uint32_t>(edge.b);
    clusters.Union(ea, eb);
    if (edge.band == Band::kMerge && (!edge.scored || edge.score >= weak_below)) {
      strong.Union(ea, eb);
    }
  }
  std::map<uint32_t, std::string> conflict;  // by root, on_conflict: review
  for (size_t e = 0; e < edges.size(); ++e) {
    if (live[e] && edges[e].band == Band::kReview) {
      has_review[clusters.Find(static_cast<uint32_t>(edges[e].a))] = true;
    }
    if (hold_conflicts && cuts.binding[e]) {
      const MatchEdge& d = edges[e];
      // The smallest reason, so that edge order (shards) does not matter.
      std::string why = ConflictReason(records[d.a], records[d.b], d);
      auto [it, added] = conflict.emplace(clusters.Find(static_cast<uint32_t>(d.a)), why);
      if (!added && why < it->second) it->second = std::move(why);
    }
  }

  // Members of each cluster, grouped by root in record order (counting sort).
  std::vector<uint32_t> root(n), offset(n + 1, 0);
  for (uint32_t i = 0; i < n; ++i) {
    if (part[i] == Part::kRejected) continue;
    root[i] = clusters.Find(i);
    ++offset[root[i] + 1];
  }
  std::partial_sum(offset.begin(), offset.end(), offset.begin());
  std::vector<uint32_t> members(offset[n]);
  {
    std::vector<uint32_t> fill(offset.begin(), offset.end() - 1);
    for (uint32_t i = 0; i < n; ++i) {
      if (part[i] != Part::kRejected) members[fill[root[i]]++] = i;
    }
  }
  auto cluster_of = [&](uint32_t i) {
    return std::span<const uint32_t>(members.data() + offset[root[i]],
                                     offset[root[i] + 1] - offset[root[i]]);
  };

  // What this shard owns (everything on a single shard): a cluster is its
  // first member's home shard's, a rejected repeat its own home shard's.
  std::vector<uint8_t> mine;
  if (in.owned != nullptr) {
    mine = *in.owned;
  } else if (!shards.single()) {
    mine.assign(n, 0);
    for (uint32_t i = 0; i < n; ++i) {
      const Record& r = records[part[i] == Part::kRejected ? i : cluster_of(i)[0]];
      mine[i] = shards.HomeOf(r.source, r.key) == shards.self();
    }
  }
  auto owned = [&](uint32_t i) { return mine.empty() || mine[i] != 0; };
  for (uint32_t i = 0; i < n; ++i) out.in += owned(i) ? 1 : 0;

  // (c) One survivor per cluster, or the whole cluster held for review: it
  // holds a review-band pair, is larger than max_cluster_size, or hangs
  // together by a weak link.
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> survivor_of(n, kNone);
  std::map<uint32_t, std::string> why_held;
  // By root: why a cluster merged nothing.
  std::map<uint32_t, std::string> why_unmerged;
  // By record: the fate validation would give a member, and its review item.
  std::map<uint32_t, v1::Fate> judged;
  std::map<uint32_t, v1::ReviewItem> judged_items;
  const int64_t max_cluster = spec ? spec->max_cluster_size : 0;
  // The golden record of every merged cluster, and where each of its
  // fields came from (GoldenRecord, for the audit store and the trace),
  // built as its survivor is chosen, while its members' values are held.
  std::map<uint32_t, std::string> golden_fields;  // by survivor
  std::vector<uint32_t> golden_of;                // the survivor of each golden record
  v1::GoldenRecord g;
  auto build_golden = [&](std::span<const uint32_t> cluster, uint32_t s) {
    std::vector<uint32_t> ranked = {s};
    if (!golden->trivial()) {
      ranked = survivorship->Rank(records, cluster);
      // The survivor first: validation may have passed over better-ranked members.
      std::rotate(ranked.begin(), std::find(ranked.begin(), ranked.end(), s),
                  std::find(ranked.begin(), ranked.end(), s) + 1);
    }
    // A value that would make the golden record fail validation is not
    // taken: the survivor was elected because it passes.
    GoldenRecordBuilder::Accept accept;
    if (in.judge != nullptr) {
      accept = [&](const Record& g) { return !in.judge->Judge(g, schema, nullptr).has_value(); };
    }
    const std::vector<GoldenChoice> choices = golden->Build(records, ranked, accept);
    g.Clear();
    g.set_source(records[s].source);
    g.set_key(records[s].key);
    std::string text;
    for (size_t f = 0; f < choices.size(); ++f) {
      const Record& from = records[choices[f].member];
      v1::GoldenField* field = g.add_fields();
      field->set_field(schema.fields[f].name);
      field->set_member_source(from.source);
      field->set_member_key(from.key);
      field->set_strategy(choices[f].strategy);
      field->set_note(choices[f].note);
      if (choices[f].member != s) {
        text += (text.empty() ? "" : ", ") + schema.fields[f].name + "<-" + from.source + ":" +
                from.key;
      }
    }
    if (!text.empty()) golden_fields[s] = std::move(text);
    out.golden.push_back(g);
    golden_of.push_back(s);
  };
  // Why each merged member lost to its survivor (interned: a handful of
  // texts), found while the values are held.
  constexpr uint32_t kNoReason = UINT32_MAX;
  std::vector<uint32_t> reason_of(n, kNoReason);
  std::vector<std::string> reason_texts;
  std::map<std::string, uint32_t, std::less<>> reason_ids;
  auto merge_into = [&](std::span<const uint32_t> cluster, uint32_t s) {
    for (uint32_t m : cluster) {
      survivor_of[m] = s;
      part[m] = m == s ? Part::kSurvivor : Part::kMerged;
      if (m == s) continue;
      // A member ranked ahead of its survivor lost to it by validation.
      auto passed_over = judged.find(m);
      std::string reason = passed_over != judged.end()
                               ? "validation (this record fails " + passed_over->second.rule() + ")"
                               : std::string(survivorship->Reason(records[s], records[m]));
      auto [it, added] =
          reason_ids.emplace(std::move(reason), static_cast<uint32_t>(reason_texts.size()));
      if (added) reason_texts.push_back(it->first);
      reason_of[m] = it->second;
    }
    build_golden(cluster, s);
    // The golden values overwrote the survivor's (Build): they are what
    // it outputs, decoded again then.
    if (in.values != nullptr && !golden->trivial() && (*in.packed_of)[s] != PackedValues::kNone) {
      (*in.packed_of)[s] = in.values->Add(schema, records[s].values);
    }
  };
  for (uint32_t r = 0; r < n; ++r) {
    const uint32_t size = offset[r + 1] - offset[r];
    if (size < 2) continue;
    std::span<const uint32_t> cluster(members.data() + offset[r], size);
    if (!owned(cluster[0])) continue;  // another shard's
    std::string why;
    if (auto c = conflict.find(r); c != conflict.end()) {
      why = c->second;
    } else if (has_review[r]) {
      why = "a pair in the cluster is in the review band";
    } else if (spec && spec->fuzzy() && max_cluster > 0 && size > max_cluster) {
      why = "cluster of " + std::to_string(size) + " records is larger than max_cluster_size " +
            std::to_string(max_cluster);
    } else if (size >= 3) {
      // A pair is merged on its own edge; a chain of three or more must
      // not hang on a borderline one.
      const uint32_t first = strong.Find(cluster[0]);
      for (uint32_t m : cluster) {
        if (strong.Find(m) != first) {
          why = "cluster is held together by a weak link (a merge below weak_link " +
                std::to_string(weak_below) + ")";
          break;
        }
      }
    }
    if (!why.empty()) {
      for (uint32_t m : cluster) part[m] = Part::kReview;
      why_held[r] = std::move(why);
      fate_count += size;
      continue;
    }
    // The members' values, for this cluster only (held by name: decoded
    // here and let go of below).
    for (uint32_t m : cluster) SLUICE_RETURN_IF_ERROR(unpack(m));
    struct Release {
      std::span<const uint32_t> cluster;
      decltype(release)& fn;
      ~Release() {
        for (uint32_t m : cluster) fn(m);
      }
    } let_go{cluster, release};
    if (in.judge == nullptr) {
      merge_into(cluster, survivorship->ChooseSurvivor(records, cluster));
      fate_count += size - 1;
      continue;
    }
    // Validation first: a member the validator would reject or hold never
    // survives; the best-ranked member it passes does, and the ones ranked
    // ahead of it merge into it all the same (they are duplicates).
    std::vector<uint32_t> ranked = survivorship->Rank(records, cluster);
    uint32_t s = kNone;
    for (uint32_t m : ranked) {
      // Kept only for a member that fails (a survivor's would be a map
      // node per cluster, never read).
      v1::ReviewItem item;
      std::optional<v1::Fate> fate = in.judge->Judge(records[m], schema, &item);
      if (!fate) {
        s = m;
        break;
      }
      judged[m] = std::move(*fate);
      judged_items[m] = std::move(item);
    }
    if (s != kNone) {
      merge_into(cluster, s);
      fate_count += size - 1;
      continue;
    }
    // No member passes: none is merged into a record validation will not
    // load. The best-ranked goes on alone (validation gives it its fate, and
    // a shard's output stays one record per cluster); every other member
    // gets here the fate validation gives it, by its own rule.
    std::string failing;
    for (uint32_t m : ranked) {
      failing += (failing.empty() ? "" : ", ") + records[m].source + ":" + records[m].key + " " +
                 judged[m].rule();
      if (m != ranked[0]) part[m] = Part::kUnmerged;
    }
    why_unmerged[r] = "no member of the cluster passes validation (" + failing + ")";
    fate_count += size - 1;
  }

  // The rule behind each merge: an edge straight to the survivor when there
  // is one, else the smallest rule among the member's own edges. Rules are
  // interned first (a handful of texts), ranked in text order.
  std::vector<std::string_view> rule_texts;
  std::vector<uint32_t> edge_rule(edges.size());
  {
    std::map<std::string_view, uint32_t> ranks;
    for (const MatchEdge& edge : edges) ranks.emplace(edge.rule, 0);
    for (auto& [text, rank] : ranks) {
      rank = static_cast<uint32_t>(rule_texts.size());
      rule_texts.push_back(text);
    }
    for (size_t e = 0; e < edges.size(); ++e) {
      edge_rule[e] =
          e > 0 && edges[e].rule == edges[e - 1].rule ? edge_rule[e - 1] : ranks[edges[e].rule];
    }
  }
  constexpr uint32_t kNoRule = UINT32_MAX;
  std::vector<uint32_t> rule_of(n, kNoRule);
  std::vector<bool> direct(n, false);
  for (size_t e = 0; e < edges.size(); ++e) {
    if (!live[e]) continue;
    for (auto [x, y] : {std::pair{edges[e].a, edges[e].b}, std::pair{edges[e].b, edges[e].a}}) {
      if (part[x] != Part::kMerged) continue;
      const bool d = y == survivor_of[x];
      if (rule_of[x] == kNoRule || (d && !direct[x]) ||
          (d == direct[x] && edge_rule[e] < rule_of[x])) {
        rule_of[x] = edge_rule[e];
        direct[x] = d;
      }
    }
  }

  // Fates in record order, which is (source, key) order: a key's first
  // occurrence, then its rejected repeats. Each is filled in one message
  // and packed (packed_messages.h).
  (void)fate_count;
  v1::Fate fate;
  struct MergeRule {
    std::string_view edge_rule;
    std::string reason, text;
  };
  std::vector<MergeRule> merge_rules;  // a handful: built once, reused
  for (uint32_t i = 0, first = 0; i < n; ++i) {
    if (part[i] != Part::kRejected) first = i;
    if (!owned(i)) continue;
    if (part[i] == Part::kRejected) {
      fate.Clear();
      FillDuplicateKeyFate(records[i], records[first], batches[origins[first].batch], &fate);
      out.fates.push_back(fate);
    } else if (part[i] == Part::kMerged) {
      const Record& s = records[survivor_of[i]];
      const std::string_view edge_rule =
          rule_of[i] != kNoRule ? rule_texts[rule_of[i]] : std::string_view("linked");
      const std::string& reason = reason_texts[reason_of[i]];
      auto rule = std::find_if(merge_rules.begin(), merge_rules.end(), [&](const MergeRule& m) {
        return m.reason == reason && m.edge_rule == edge_rule;
      });
      if (rule == merge_rules.end()) {
        std::string text = std::string(edge_rule) + "; survivor by " + reason;
        rule = merge_rules.insert(merge_rules.end(), {edge_rule, reason, std::move(text)});
      }
      fate.Clear();
      FillMergedFate(records[i], s, rule->text, &fate);
      out.fates.push_back(fate);
    } else if (part[i] == Part::kReview) {
      fate.Clear();
      FillReviewFate(records[i], cluster_of(i), records, why_held[root[i]], &fate);
      out.fates.push_back(fate);
    } else if (part[i] == Part::kUnmerged) {
      v1::Fate& f = judged[i];
      f.set_stage(kDedupStage);
      f.set_reason(f.reason() + "; not merged: " + why_unmerged[root[i]]);
      if (f.kind() == v1::FATE_REVIEW) judged_items[i].set_reasons(f.reason());
      out.fates.push_back(f);
    }
  }

  // (source, key) order: items are sorted by the records they name, which
  // compare as their names did.
  auto name_less = [&](uint32_t x, uint32_t y) {
    return std::tie(records[x].source, records[x].key) <
           std::tie(records[y].source, records[y].key);
  };
  out.golden.StableSortFrom(
      0, [&](uint32_t x, uint32_t y) { return name_less(golden_of[x], golden_of[y]); });
  std::vector<uint32_t>().swap(golden_of);
  // The decisions on pairs, for the audit store, and the items a steward
  // decides: review-band pairs, and every member of a cluster held whole.
  // Decisions and pair review items by the names of their two records.
  struct Named {
    uint32_t a, b;
  };
  auto pair_less = [&](const Named& x, const Named& y) {
    return std::tie(records[x.a].source, records[x.a].key, records[x.b].source, records[x.b].key) <
           std::tie(records[y.a].source, records[y.a].key, records[y.b].source, records[y.b].key);
  };
  std::vector<Named> decision_of, item_of;
  v1::MatchDecision decision;
  v1::ReviewItem pair_item;
  for (size_t e = 0; e < edges.size(); ++e) {
    const MatchEdge& edge = edges[e];
    const bool forced_distinct =
        edge.band == Band::kDistinct && (edge.rule == "steward" || cuts.binding[e]);
    if (!live[e] && !forced_distinct && cuts.cut[e].empty()) continue;
    const uint32_t a = static_cast<uint32_t>(edge.a), b = static_cast<uint32_t>(edge.b);
    if (!owned(a)) continue;
    v1::MatchDecision& d = decision;
    d.Clear();
    FillDecision(edge, records[a], records[b], &d);
    decision_of.push_back({a, b});
    if (forced_distinct || !cuts.cut[e].empty()) {
      d.set_outcome(forced_distinct ? "distinct" : cuts.cut[e]);
      out.decisions.push_back(d);
      edges[e].ReleaseDetail();  // recorded: let go of
      continue;
    }
    std::span<const uint32_t> cluster = cluster_of(a);
    d.set_cluster(records[cluster[0]].source + ":" + records[cluster[0]].key);
    d.set_cluster_size(static_cast<uint32_t>(cluster.size()));
    if (part[a] == Part::kReview) {
      d.set_outcome("held_for_review: " + why_held[root[a]]);
      if (edge.band == Band::kReview) {
        pair_item.Clear();
        SLUICE_RETURN_IF_ERROR(unpack(a));
        SLUICE_RETURN_IF_ERROR(unpack(b));
        FillPairReviewItem(entity, schema, records[a], records[b], edge, &pair_item);
        release(a);
        release(b);
        out.review_items.push_back(pair_item);
        item_of.push_back({a, b});
      }
    } else if (survivor_of[a] == kNone) {
      d.set_outcome("not merged: " + why_unmerged[root[a]]);
    } else {
      const Record& s = records[survivor_of[a]];
      d.set_outcome("merged");
      d.set_survivor_source(s.source);
      d.set_survivor_key(s.key);
      auto g = golden_fields.find(survivor_of[a]);
      if (g != golden_fields.end()) d.set_outcome("merged; golden record fields " + g->second);
    }
    out.decisions.push_back(d);
    edges[e].ReleaseDetail();  // recorded: let go of
  }
  // In record order, whatever order the matcher found the pairs in.
  out.decisions.StableSortFrom(
      0, [&](uint32_t x, uint32_t y) { return pair_less(decision_of[x], decision_of[y]); });
  out.review_items.StableSortFrom(
      0, [&](uint32_t x, uint32_t y) { return pair_less(item_of[x], item_of[y]); });
  std::vector<Named>().swap(decision_of);
  std::vector<Named>().swap(item_of);
  for (uint32_t i = 0; i < n; ++i) {
    if (part[i] == Part::kUnmerged && owned(i) && judged_items.count(i) &&
        !judged_items[i].key().empty() && !judged_items[i].reasons().empty()) {
      // Held here by its own review rule, like a held cluster's members.
      v1::ReviewItem& item = judged_items[i];
      item.set_stage(kDedupStage);
      out.review_items.push_back(item);
      continue;
    }
    if (part[i] != Part::kReview || !owned(i)) continue;
    std::span<const uint32_t> cluster = cluster_of(i);
    v1::ReviewItem& item = pair_item;
    item.Clear();
    item.set_kind("cluster");
    item.set_entity(entity);
    item.set_source(records[i].source);
    item.set_key(records[i].key);
    item.set_cluster(records[cluster[0]].source + ":" + records[cluster[0]].key);
    item.set_stage(kDedupStage);
    item.set_rule("dedup_review");
    item.set_reasons(why_held[root[i]]);
    item.set_suggestion(kReviewSuggestion);
    SLUICE_RETURN_IF_ERROR(unpack(i));
    item.set_record_json(RecordJson(schema, records[i]));
    release(i);
    out.review_items.push_back(item);
  }

  // (d) Survivors and singletons, in (source, key) order, cut into batches,
  // each encoded as it is cut (packed_batches.h). The records move into the
  // output: the shard keeps no second copy.
  RecordBatch batch;
  auto cut = [&] {
    if (batch.records.empty()) return;
    out.batches.push_back(batch);
    std::vector<Record>().swap(batch.records);
  };
  for (uint32_t i = 0; i < n; ++i) {
    if (part[i] == Part::kRejected || part[i] == Part::kMerged || part[i] == Part::kReview ||
        part[i] == Part::kUnmerged || !owned(i)) {
      continue;
    }
    std::vector<SourceKey> merged;
    if (part[i] == Part::kSurvivor) {
      for (uint32_t m : cluster_of(i)) {
        // Keys merged upstream travel on with their survivor.
        merged.insert(merged.end(), records[m].merged.begin(), records[m].merged.end());
        if (m != i) merged.push_back({records[m].source, records[m].key});
      }
      std::sort(merged.begin(), merged.end());
      merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    }
    if (batch.records.size() == batch_size) cut();
    if (batch.records.empty()) {
      batch.id = id_template;
      batch.id.set_sequence(out.batches.size());
      batch.epoch = 0;
      batch.schema = schema;
      batch.records.reserve(std::min<size_t>(batch_size, n - i));
    }
    SLUICE_RETURN_IF_ERROR(unpack(i));
    if (records[i].values.size() != schema.fields.size()) {
      return Status::Internal("dedup " + entity + ": output record " + records[i].source + ":" +
                              records[i].key + " is not held whole");
    }
    Record& r = batch.records.emplace_back(std::move(records[i]));
    if (part[i] == Part::kSurvivor) r.merged = std::move(merged);
  }
  cut();
  return out;
}

}  // namespace sluice::dedup_internal
