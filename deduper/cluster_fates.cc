#include "deduper/cluster_fates.h"

#include "common/runtime/codec.h"
#include "common/runtime/review_item.h"

namespace sluice::dedup_internal {

void FillDuplicateKeyFate(const Record& dup, const Record& first, const IngestedBatch& first_batch,
                          v1::Fate* fate) {
  v1::Fate& f = *fate;
  f.set_kind(v1::FATE_REJECTED);
  f.set_source(dup.source);
  f.set_key(dup.key);
  f.set_stage(kDedupStage);
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
  f.set_stage(kDedupStage);
  f.set_rule(rule);
  f.set_line(member.line);
  f.set_survivor_source(survivor.source);
  f.set_survivor_key(survivor.key);
}

void FillReviewFate(const Record& member, std::span<const uint32_t> cluster,
                    const std::vector<Record>& records, const std::string& why, v1::Fate* fate) {
  v1::Fate& f = *fate;
  f.set_kind(v1::FATE_REVIEW);
  f.set_source(member.source);
  f.set_key(member.key);
  f.set_stage(kDedupStage);
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
  const std::string detail = edge.Detail();
  d->set_detail(detail);
  if (!edge.scored) return;
  // "first_name=jw>=0.92:+6.10; surname=exact:+8.31" back into parts.
  std::string_view rest = detail;
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
  item->set_stage(kDedupStage);
  item->set_rule(edge.rule);
  item->set_reasons(edge.scored ? "match weight " + std::to_string(edge.score) +
                                      " in the review band: " + edge.Detail()
                                : "rule " + edge.rule + ": " + edge.Detail());
  item->set_suggestion(kReviewSuggestion);
  item->set_record_json(RecordJson(schema, a));
  item->set_other_record_json(RecordJson(schema, b));
}

v1::MatchDecision DistinctDecision(const MatchEdge& edge, const SourceKey& a, const SourceKey& b) {
  Record ra, rb;
  ra.source = a.source;
  ra.key = a.key;
  rb.source = b.source;
  rb.key = b.key;
  v1::MatchDecision d;
  FillDecision(edge, ra, rb, &d);
  d.set_outcome("distinct");
  return d;
}

}  // namespace sluice::dedup_internal
