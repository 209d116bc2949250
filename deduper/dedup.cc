#include "deduper/dedup.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "common/codec.h"
#include "deduper/shard_log.h"
#include "deduper/survivorship.h"

namespace sluice {

std::string ShardLogReplay::ToString() const {
  std::string s =
      "replayed " + std::to_string(batches) + " batches (" + std::to_string(records) + " records)";
  if (truncated_bytes > 0) {
    s += "; truncated a torn tail of " + std::to_string(truncated_bytes) + " bytes";
  }
  return s;
}

namespace {

constexpr char kStage[] = "dedup";

// Where a record arrived from. Orders two occurrences of one (source, key)
// independently of arrival: by batch stream and sequence, then position.
struct Origin {
  uint32_t batch = 0;
  uint32_t position = 0;
};

struct IngestedBatch {
  v1::BatchId id;
  std::string name;
};

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

// A record's part in the resolution.
enum class Part : uint8_t { kSingleton, kSurvivor, kMerged, kRejected, kReview };

void FillDuplicateKeyFate(const Record& dup, const Record& first, const IngestedBatch& first_batch,
                          v1::Fate* fate) {
  v1::Fate& f = *fate;
  f.set_kind(v1::FATE_REJECTED);
  f.set_source(dup.source);
  f.set_key(dup.key);
  f.set_stage(kStage);
  f.set_rule("duplicate_source_key");
  f.set_value(dup.key);
  f.set_line(dup.line);
  std::string where =
      first.line > 0 ? "line " + std::to_string(first.line) : "batch " + first_batch.name;
  f.set_reason("key " + dup.key + " appears more than once in source " + dup.source +
               " (first at " + where + ")");
  f.set_suggestion("make the key unique in source " + dup.source +
                   " (or map a unique key column) and extract again");
}

void FillMergedFate(const Record& member, const Record& survivor, const std::string& rule,
                    v1::Fate* fate) {
  v1::Fate& f = *fate;
  f.set_kind(v1::FATE_MERGED);
  f.set_source(member.source);
  f.set_key(member.key);
  f.set_stage(kStage);
  f.set_rule(rule);
  f.set_line(member.line);
  f.set_survivor_source(survivor.source);
  f.set_survivor_key(survivor.key);
}

constexpr char kReviewSuggestion[] =
    "decide the pairs (match or distinct) with sluice review export/import; the decisions "
    "apply on the next run";

std::string RecordJson(const Schema& schema, const Record& r) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t f = 0; f < schema.fields.size() && f < r.values.size(); ++f) {
    std::optional<std::string> text = FormatValue(schema.fields[f], r.values[f]);
    j[schema.fields[f].name] = text ? nlohmann::json(*text) : nlohmann::json(nullptr);
  }
  return j.dump();
}

void FillReviewFate(const Record& member, std::span<const uint32_t> cluster,
                    const std::vector<Record>& records, const std::string& why, v1::Fate* fate) {
  v1::Fate& f = *fate;
  f.set_kind(v1::FATE_REVIEW);
  f.set_source(member.source);
  f.set_key(member.key);
  f.set_stage(kStage);
  f.set_rule("dedup_review");
  f.set_line(member.line);
  std::string others;
  size_t shown = 0;
  for (uint32_t m : cluster) {
    if (records[m].source == member.source && records[m].key == member.key) continue;
    if (shown++ == 8) {
      others += ", ...";
      break;
    }
    others += (others.empty() ? "" : ", ") + records[m].source + ":" + records[m].key;
  }
  f.set_value(records[cluster[0]].source + ":" + records[cluster[0]].key);
  f.set_reason("held with " + std::to_string(cluster.size() - 1) + " possible duplicate(s) (" +
               others + "): " + why);
  f.set_suggestion(kReviewSuggestion);
}

void FillDecision(const MatchEdge& edge, const Record& a, const Record& b, v1::MatchDecision* d) {
  d->set_a_source(a.source);
  d->set_a_key(a.key);
  d->set_b_source(b.source);
  d->set_b_key(b.key);
  d->set_rule(edge.rule);
  d->set_band(BandName(edge.band));
  d->set_scored(edge.scored);
  d->set_score(edge.score);
  d->set_detail(edge.detail);
  if (!edge.scored) return;
  // "first_name=jw>=0.92:+6.10; surname=exact:+8.31" back into parts.
  std::string_view rest = edge.detail;
  while (!rest.empty()) {
    size_t end = rest.find("; ");
    std::string_view item = rest.substr(0, end);
    size_t eq = item.find('='), colon = item.rfind(':');
    if (eq != std::string_view::npos && colon != std::string_view::npos && colon > eq) {
      v1::MatchComparison* c = d->add_comparisons();
      c->set_name(std::string(item.substr(0, eq)));
      c->set_label(std::string(item.substr(eq + 1, colon - eq - 1)));
      c->set_weight(std::strtod(std::string(item.substr(colon + 1)).c_str(), nullptr));
    }
    if (end == std::string_view::npos) break;
    rest = rest.substr(end + 2);
  }
}

void FillPairReviewItem(const std::string& entity, const Schema& schema, const Record& a,
                        const Record& b, const MatchEdge& edge, v1::ReviewItem* item) {
  item->set_kind("pair");
  item->set_entity(entity);
  item->set_source(a.source);
  item->set_key(a.key);
  item->set_other_source(b.source);
  item->set_other_key(b.key);
  item->set_score(edge.score);
  item->set_stage(kStage);
  item->set_rule(edge.rule);
  item->set_reasons(edge.scored ? "match weight " + std::to_string(edge.score) +
                                      " in the review band: " + edge.detail
                                : "rule " + edge.rule + ": " + edge.detail);
  item->set_suggestion(kReviewSuggestion);
  item->set_record_json(RecordJson(schema, a));
  item->set_other_record_json(RecordJson(schema, b));
}

class LoggedDedupShard : public DedupShard {
 public:
  LoggedDedupShard(std::string entity, std::optional<DedupSpec> spec,
                   std::vector<ForcedPair> forced)
      : entity_(std::move(entity)), spec_(std::move(spec)), forced_(std::move(forced)) {}

  // Opens the log and replays its batches.
  Status Open(const std::string& log_path) {
    ShardLog::Recovery recovery;
    auto on_frame = [this](std::string_view payload) { return ReplayFrame(payload); };
    SLUICE_ASSIGN_OR_RETURN(log_, ShardLog::Open(log_path, on_frame, &recovery));
    replay_.batches = batches_.size();
    replay_.records = record_count_;
    replay_.truncated_bytes = recovery.truncated_bytes;
    return Status::Ok();
  }

  Result<bool> Ingest(const RecordBatch& batch) override {
    std::string name = BatchName(batch.id);
    if (batch_names_.count(name) > 0) return false;
    SLUICE_RETURN_IF_ERROR(Check(batch, name));
    v1::RecordBatch wire;
    EncodeBatch(batch, &wire);
    std::string payload;
    if (!wire.SerializeToString(&payload)) {
      return Status::Internal("batch " + name + ": cannot serialize for the shard log");
    }
    SLUICE_RETURN_IF_ERROR(log_->Append(payload).WithContext("batch " + name));
    if (handed_over_) {
      // The next Resolve re-reads the whole log, this batch included.
      batch_names_.insert(std::move(name));
      record_count_ += batch.records.size();
    } else {
      Adopt(batch.id, std::move(name), batch.schema, batch.records);
    }
    return true;
  }

  Result<Resolution> Resolve(const v1::BatchId& id_template, size_t batch_size) override;

  size_t record_count() const override { return record_count_; }
  const ShardLogReplay& replay() const override { return replay_; }

 private:
  // Refuses a batch of another entity, with ragged values or another schema.
  Status Check(const RecordBatch& batch, const std::string& name) const {
    if (!batch.id.entity().empty() && batch.id.entity() != entity_) {
      return Status::InvalidArgument("batch " + name + " is of entity " + batch.id.entity() +
                                     ", this shard dedups " + entity_);
    }
    if (batch.records.empty()) return Status::Ok();
    if (schema_ && !(batch.schema == *schema_)) {
      return Status::Corruption("batch " + name + ": schema differs from the one of entity " +
                                entity_ + " in earlier batches");
    }
    for (const Record& r : batch.records) {
      if (r.values.size() != batch.schema.fields.size()) {
        return Status::InvalidArgument("batch " + name + ": record " + r.source + "/" + r.key +
                                       " has " + std::to_string(r.values.size()) + " values for " +
                                       std::to_string(batch.schema.fields.size()) + " fields");
      }
    }
    if (record_count_ + batch.records.size() > UINT32_MAX) {
      return Status::InvalidArgument("batch " + name + ": shard is full");
    }
    return Status::Ok();
  }

  Status ReplayFrame(std::string_view payload) {
    v1::RecordBatch wire;
    if (!wire.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      return Status::Corruption("not a record batch");
    }
    SLUICE_ASSIGN_OR_RETURN(RecordBatch batch, DecodeBatch(wire));
    std::string name = BatchName(batch.id);
    if (batch_names_.count(name) > 0) return Status::Ok();  // appended twice: keep one
    Status st = Check(batch, name);
    if (!st.ok()) return Status::Corruption(st.message());
    Adopt(batch.id, std::move(name), batch.schema, std::move(batch.records));
    return Status::Ok();
  }

  // Reads the records back from the log after a Resolve handed them over.
  Status Reload() {
    records_.clear();
    origins_.clear();
    batches_.clear();
    batch_names_.clear();
    record_count_ = 0;
    canonical_ = true;
    SLUICE_RETURN_IF_ERROR(
        log_->ReadAll([this](std::string_view payload) { return ReplayFrame(payload); }));
    handed_over_ = false;
    return Status::Ok();
  }

  void Adopt(const v1::BatchId& id, std::string name, const Schema& schema,
             std::vector<Record> records) {
    const uint32_t b = static_cast<uint32_t>(batches_.size());
    batches_.push_back({id, name});
    batch_names_.insert(std::move(name));
    if (records.empty()) return;
    if (!schema_) schema_ = schema;
    record_count_ += records.size();
    for (size_t i = 0; i < records.size(); ++i) {
      records_.push_back(std::move(records[i]));
      origins_.push_back({b, static_cast<uint32_t>(i)});
    }
    canonical_ = false;
  }

  // Builds the matcher and the survivorship once the schema is known.
  Status PrepareRules() {
    if (!spec_ || matcher_) return Status::Ok();
    const std::string path = spec_->yaml_path.empty() ? "dedup." + entity_ : spec_->yaml_path;
    if (spec_->key_fields.empty() && !spec_->fuzzy()) {
      return Status::InvalidArgument(path + ".key: empty");
    }
    for (const std::string& f : spec_->key_fields) {
      if (schema_->IndexOf(f) < 0) {
        return Status::InvalidArgument(path + ".key: no field " + f + " in entity " + entity_);
      }
    }
    if (!spec_->most_recent_field.empty() && schema_->IndexOf(spec_->most_recent_field) < 0) {
      return Status::InvalidArgument(path + ".most_recent_field: no field " +
                                     spec_->most_recent_field + " in entity " + entity_);
    }
    if (spec_->fuzzy()) {
      SLUICE_ASSIGN_OR_RETURN(matcher_, MakeFuzzyMatcher(*spec_, *schema_, forced_));
    } else {
      matcher_ = MakeExactKeyMatcher(*spec_, *schema_);
    }
    survivorship_ = MakePrioritySurvivorship(*spec_, *schema_);
    golden_ = std::make_unique<GoldenRecordBuilder>(*spec_, *schema_);
    return Status::Ok();
  }

  // Sorts the records by (source, key, origin): every later step then
  // depends only on the records, never on their arrival order.
  void Canonicalize() {
    if (canonical_) return;
    std::vector<uint32_t> by_stream(batches_.size());
    std::iota(by_stream.begin(), by_stream.end(), 0u);
    std::sort(by_stream.begin(), by_stream.end(), [&](uint32_t a, uint32_t b) {
      const v1::BatchId &x = batches_[a].id, &y = batches_[b].id;
      if (x.source() != y.source()) return x.source() < y.source();
      if (x.sequence() != y.sequence()) return x.sequence() < y.sequence();
      return batches_[a].name < batches_[b].name;
    });
    std::vector<uint32_t> rank(batches_.size());
    for (uint32_t i = 0; i < by_stream.size(); ++i) rank[by_stream[i]] = i;

    // Sorted on a 64-bit prefix (source rank, first six key bytes) that
    // agrees with the full order, which only breaks ties: most comparisons
    // then stay in one cache line.
    std::map<std::string_view, uint64_t> source_rank;
    for (const Record& r : records_) source_rank.emplace(r.source, 0);
    uint64_t next = 0;
    for (auto& [source, r] : source_rank) r = next++;
    const bool ranked = source_rank.size() < (1u << 16);
    std::vector<std::pair<uint64_t, uint32_t>> order(records_.size());
    const std::string* last_source = nullptr;
    uint64_t last_rank = 0;
    for (uint32_t i = 0; i < records_.size(); ++i) {
      const Record& r = records_[i];
      if (last_source == nullptr || *last_source != r.source) {
        last_source = &r.source;
        last_rank = source_rank[r.source];
      }
      uint64_t prefix = last_rank << 48;
      for (size_t b = 0; b < 6 && b < r.key.size(); ++b) {
        prefix |= static_cast<uint64_t>(static_cast<uint8_t>(r.key[b])) << (40 - 8 * b);
      }
      order[i] = {ranked ? prefix : 0, i};
    }
    std::sort(order.begin(), order.end(), [&](const auto& pa, const auto& pb) {
      if (pa.first != pb.first) return pa.first < pb.first;
      const uint32_t a = pa.second, b = pb.second;
      const Record &x = records_[a], &y = records_[b];
      if (int c = x.source.compare(y.source); c != 0) return c < 0;
      if (int c = x.key.compare(y.key); c != 0) return c < 0;
      const Origin &ox = origins_[a], &oy = origins_[b];
      if (ox.batch != oy.batch) return rank[ox.batch] < rank[oy.batch];
      return ox.position < oy.position;
    });
    std::vector<uint32_t> perm(records_.size());
    for (size_t i = 0; i < order.size(); ++i) perm[i] = order[i].second;
    std::vector<Record> records(records_.size());
    std::vector<Origin> origins(origins_.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      records[i] = std::move(records_[perm[i]]);
      origins[i] = origins_[perm[i]];
    }
    records_ = std::move(records);
    origins_ = std::move(origins);
    canonical_ = true;
  }

  std::string entity_;
  std::optional<DedupSpec> spec_;  // none: nothing merges
  std::unique_ptr<ShardLog> log_;
  std::optional<Schema> schema_;  // of the first non-empty batch
  std::vector<Record> records_;
  std::vector<Origin> origins_;  // parallel to records_
  std::vector<IngestedBatch> batches_;
  std::unordered_set<std::string> batch_names_;
  size_t record_count_ = 0;
  bool canonical_ = true;
  bool handed_over_ = false;  // records_ moved into the last Resolution
  std::unique_ptr<Matcher> matcher_;
  std::unique_ptr<SurvivorshipRule> survivorship_;
  std::unique_ptr<GoldenRecordBuilder> golden_;
  std::vector<ForcedPair> forced_;  // steward decisions on pairs
  ShardLogReplay replay_;
};

Result<Resolution> LoggedDedupShard::Resolve(const v1::BatchId& id_template, size_t batch_size) {
  if (batch_size == 0) return Status::InvalidArgument("dedup: batch size must be positive");
  if (handed_over_) SLUICE_RETURN_IF_ERROR(Reload());
  Resolution out;
  if (records_.empty()) return out;
  SLUICE_RETURN_IF_ERROR(PrepareRules());
  Canonicalize();
  const uint32_t n = static_cast<uint32_t>(records_.size());
  std::vector<Part> part(n, Part::kSingleton);

  // (a) A source that repeats a primary key: the first occurrence goes on,
  // every later one (adjacent after Canonicalize) is rejected and takes no
  // further part.
  size_t fate_count = 0;
  for (uint32_t i = 1; i < n; ++i) {
    if (records_[i].key == records_[i - 1].key && records_[i].source == records_[i - 1].source) {
      part[i] = Part::kRejected;
      ++fate_count;
    }
  }

  // (b) Match, then cluster the linked records: merge and review edges
  // join components; only strong merge edges join `strong`, so a component
  // that `strong` splits is held together by a weak link.
  std::vector<MatchEdge> edges;
  if (matcher_) edges = matcher_->Match(*schema_, records_);
  if (matcher_) out.stats = matcher_->stats();
  const double weak_below = spec_ ? spec_->weak_link_threshold : 0;
  std::vector<bool> live(edges.size(), false);
  UnionFind clusters(n), strong(n);
  std::vector<bool> has_review(n, false);
  for (size_t e = 0; e < edges.size(); ++e) {
    const MatchEdge& edge = edges[e];
    if (edge.a >= n || edge.b >= n) return Status::Internal("dedup: matcher edge out of range");
    if (edge.a == edge.b || part[edge.a] == Part::kRejected || part[edge.b] == Part::kRejected ||
        edge.band == Band::kDistinct) {
      continue;
    }
    live[e] = true;
    const uint32_t ea = static_cast<uint32_t>(edge.a), eb = static_cast<uint32_t>(edge.b);
    clusters.Union(ea, eb);
    if (edge.band == Band::kMerge && (!edge.scored || edge.score >= weak_below)) {
      strong.Union(ea, eb);
    }
  }
  for (size_t e = 0; e < edges.size(); ++e) {
    if (live[e] && edges[e].band == Band::kReview) {
      has_review[clusters.Find(static_cast<uint32_t>(edges[e].a))] = true;
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

  // (c) One survivor per cluster, or the whole cluster held for review: it
  // holds a review-band pair, is larger than max_cluster_size, or hangs
  // together by a weak link.
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> survivor_of(n, kNone);
  std::map<uint32_t, std::string> why_held;
  const int64_t max_cluster = spec_ ? spec_->max_cluster_size : 0;
  for (uint32_t r = 0; r < n; ++r) {
    const uint32_t size = offset[r + 1] - offset[r];
    if (size < 2) continue;
    std::span<const uint32_t> cluster(members.data() + offset[r], size);
    std::string why;
    if (has_review[r]) {
      why = "a pair in the cluster is in the review band";
    } else if (spec_ && spec_->fuzzy() && max_cluster > 0 && size > max_cluster) {
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
    const uint32_t s = survivorship_->ChooseSurvivor(records_, cluster);
    for (uint32_t m : cluster) {
      survivor_of[m] = s;
      part[m] = m == s ? Part::kSurvivor : Part::kMerged;
    }
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
  // occurrence, then its rejected repeats.
  out.fates.reserve(fate_count);
  struct MergeRule {
    std::string_view edge_rule, reason;  // reason: owned by the survivorship rule
    std::string text;
  };
  std::vector<MergeRule> merge_rules;  // a handful: built once, reused
  for (uint32_t i = 0, first = 0; i < n; ++i) {
    if (part[i] != Part::kRejected) first = i;
    if (part[i] == Part::kRejected) {
      FillDuplicateKeyFate(records_[i], records_[first], batches_[origins_[first].batch],
                           &out.fates.emplace_back());
    } else if (part[i] == Part::kMerged) {
      const Record& s = records_[survivor_of[i]];
      const std::string_view edge_rule =
          rule_of[i] != kNoRule ? rule_texts[rule_of[i]] : std::string_view("linked");
      const std::string_view reason = survivorship_->Reason(s, records_[i]);
      auto rule = std::find_if(merge_rules.begin(), merge_rules.end(), [&](const MergeRule& m) {
        return m.reason == reason && m.edge_rule == edge_rule;
      });
      if (rule == merge_rules.end()) {
        std::string text = std::string(edge_rule) + "; survivor by " + std::string(reason);
        rule = merge_rules.insert(merge_rules.end(), {edge_rule, reason, std::move(text)});
      }
      FillMergedFate(records_[i], s, rule->text, &out.fates.emplace_back());
    } else if (part[i] == Part::kReview) {
      FillReviewFate(records_[i], cluster_of(i), records_, why_held[root[i]],
                     &out.fates.emplace_back());
    }
  }

  // The decisions on pairs, for the audit store, and the items a steward
  // decides: review-band pairs, and every member of a cluster held whole.
  std::map<uint32_t, std::string> golden_fields;  // by survivor
  for (uint32_t r = 0; r < n; ++r) {
    const uint32_t size = offset[r + 1] - offset[r];
    if (size < 2 || part[members[offset[r]]] == Part::kReview) continue;
    std::span<const uint32_t> cluster(members.data() + offset[r], size);
    if (golden_->trivial()) continue;
    std::vector<uint32_t> ranked = survivorship_->Rank(records_, cluster);
    std::vector<std::string> taken = golden_->Build(records_, ranked);
    std::string text;
    for (const std::string& t : taken) text += (text.empty() ? "" : ", ") + t;
    if (!text.empty()) golden_fields[ranked[0]] = std::move(text);
  }
  for (size_t e = 0; e < edges.size(); ++e) {
    const MatchEdge& edge = edges[e];
    const bool forced_distinct = edge.band == Band::kDistinct && edge.rule == "steward";
    if (!live[e] && !forced_distinct) continue;
    const uint32_t a = static_cast<uint32_t>(edge.a), b = static_cast<uint32_t>(edge.b);
    v1::MatchDecision& d = out.decisions.emplace_back();
    FillDecision(edge, records_[a], records_[b], &d);
    if (forced_distinct) {
      d.set_outcome("distinct");
      continue;
    }
    std::span<const uint32_t> cluster = cluster_of(a);
    d.set_cluster(records_[cluster[0]].source + ":" + records_[cluster[0]].key);
    d.set_cluster_size(static_cast<uint32_t>(cluster.size()));
    if (part[a] == Part::kReview) {
      d.set_outcome("held_for_review: " + why_held[root[a]]);
      if (edge.band == Band::kReview) {
        FillPairReviewItem(entity_, *schema_, records_[a], records_[b], edge,
                           &out.review_items.emplace_back());
      }
    } else {
      const Record& s = records_[survivor_of[a]];
      d.set_outcome("merged");
      d.set_survivor_source(s.source);
      d.set_survivor_key(s.key);
      auto g = golden_fields.find(survivor_of[a]);
      if (g != golden_fields.end()) d.set_outcome("merged; golden record fields " + g->second);
    }
  }
  // In record order, whatever order the matcher found the pairs in.
  std::sort(out.decisions.begin(), out.decisions.end(),
            [](const v1::MatchDecision& x, const v1::MatchDecision& y) {
              return std::tie(x.a_source(), x.a_key(), x.b_source(), x.b_key()) <
                     std::tie(y.a_source(), y.a_key(), y.b_source(), y.b_key());
            });
  std::sort(out.review_items.begin(), out.review_items.end(),
            [](const v1::ReviewItem& x, const v1::ReviewItem& y) {
              return std::tie(x.source(), x.key(), x.other_source(), x.other_key()) <
                     std::tie(y.source(), y.key(), y.other_source(), y.other_key());
            });
  for (uint32_t i = 0; i < n; ++i) {
    if (part[i] != Part::kReview) continue;
    std::span<const uint32_t> cluster = cluster_of(i);
    v1::ReviewItem& item = out.review_items.emplace_back();
    item.set_kind("cluster");
    item.set_entity(entity_);
    item.set_source(records_[i].source);
    item.set_key(records_[i].key);
    item.set_cluster(records_[cluster[0]].source + ":" + records_[cluster[0]].key);
    item.set_stage(kStage);
    item.set_rule("dedup_review");
    item.set_reasons(why_held[root[i]]);
    item.set_suggestion(kReviewSuggestion);
    item.set_record_json(RecordJson(*schema_, records_[i]));
  }

  // (d) Survivors and singletons, in (source, key) order, cut into batches.
  // The records move into the output: the shard keeps no second copy.
  for (uint32_t i = 0; i < n; ++i) {
    if (part[i] == Part::kRejected || part[i] == Part::kMerged || part[i] == Part::kReview) {
      continue;
    }
    std::vector<SourceKey> merged;
    if (part[i] == Part::kSurvivor) {
      for (uint32_t m : cluster_of(i)) {
        // Keys merged upstream travel on with their survivor.
        merged.insert(merged.end(), records_[m].merged.begin(), records_[m].merged.end());
        if (m != i) merged.push_back({records_[m].source, records_[m].key});
      }
      std::sort(merged.begin(), merged.end());
      merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    }
    if (out.batches.empty() || out.batches.back().records.size() == batch_size) {
      RecordBatch& b = out.batches.emplace_back();
      b.id = id_template;
      b.id.set_sequence(out.batches.size() - 1);
      b.epoch = 0;
      b.schema = *schema_;
      b.records.reserve(std::min<size_t>(batch_size, n - i));
    }
    Record& r = out.batches.back().records.emplace_back(std::move(records_[i]));
    if (part[i] == Part::kSurvivor) r.merged = std::move(merged);
  }
  records_ = {};
  origins_ = {};
  handed_over_ = true;
  return out;
}

}  // namespace

Result<std::unique_ptr<DedupShard>> DedupShard::Create(const Plan& plan, const std::string& entity,
                                                       const std::string& log_path,
                                                       std::vector<ForcedPair> forced) {
  std::optional<DedupSpec> spec;
  if (auto it = plan.dedup.find(entity); it != plan.dedup.end()) spec = it->second;
  auto shard = std::make_unique<LoggedDedupShard>(entity, std::move(spec), std::move(forced));
  SLUICE_RETURN_IF_ERROR(shard->Open(log_path).WithContext("dedup " + entity));
  return std::unique_ptr<DedupShard>(std::move(shard));
}

}  // namespace sluice
