// Internal to the deduper: the fates, match decisions and review items a
// resolution records for its records and pairs (filled by dedup_cluster.cc).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "deduper/dedup_internal.h"

namespace sluice::dedup_internal {

// The stage every dedup fate and review item names.
inline constexpr char kDedupStage[] = "dedup";
// What a steward does with a record or pair held for review.
inline constexpr char kReviewSuggestion[] =
    "decide the pairs (match or distinct) with sluice review export/import; the decisions "
    "apply on the next run";

// The fate of `dup`, a later occurrence of the (source, key) of `first`.
void FillDuplicateKeyFate(const Record& dup, const Record& first, const IngestedBatch& first_batch,
                          v1::Fate* fate);
// The fate of `member`, merged into `survivor` by `rule`.
void FillMergedFate(const Record& member, const Record& survivor, const std::string& rule,
                    v1::Fate* fate);
// The fate of `member` of `cluster` (indexes into `records`), held for review because `why`.
void FillReviewFate(const Record& member, std::span<const uint32_t> cluster,
                    const std::vector<Record>& records, const std::string& why, v1::Fate* fate);
// The match decision `edge` took on the pair (a, b).
void FillDecision(const MatchEdge& edge, const Record& a, const Record& b, v1::MatchDecision* d);
// The review item of a pair the scores left in the review band (or a rule sent to review).
void FillPairReviewItem(const std::string& entity, const Schema& schema, const Record& a,
                        const Record& b, const MatchEdge& edge, v1::ReviewItem* item);

}  // namespace sluice::dedup_internal
