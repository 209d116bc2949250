// What a worker sends a steward about a record it holds (docs/review.md):
// the record's values and the review item of its REVIEW fate. One form for
// the transformer, the deduper, the validator and the loader.
#pragma once

#include <string>

#include "common/core/record.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// The values of `record` (of `schema`) as review items carry them:
// {"field": "canonical text" or null}, in schema order.
std::string RecordJson(const Schema& schema, const Record& record);

// The review item (kind "record") of a record of `entity` held with `fate`:
// its source, key, stage, rule, field, value, reason and suggestion, and its
// values `record_json`.
v1::ReviewItem RecordReviewItem(const std::string& entity, const v1::Fate& fate,
                                std::string record_json);

}  // namespace sluice
