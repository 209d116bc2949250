// How each field of an entity is filled from a source record: the field
// mappings of a plan compiled against the source's schema (columns resolved,
// text steps built, casters made), for the transformer (transform.cc).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "transformer/field_cast.h"
#include "transformer/reference_data.h"
#include "transformer/text_steps.h"

namespace sluice {

enum class SplitKind { kNone, kName, kAddress, kSeparator };

// A field mapping's `on_error` (issue 14).
enum class OnError { kReject, kReview, kNull };

// A source column read by a field.
struct Column {
  int index = -1;
  bool integral = false;  // the source column carries typed ints
};

// How one output field is filled.
struct OutputField {
  Column from;                  // index -1: no column
  std::vector<Column> concat;   // instead of `from`
  std::string separator = " ";  // concat, split: separator
  SplitKind split = SplitKind::kNone;
  std::string part;  // first|last, street|postcode|city
  size_t piece = 0;  // split: separator
  std::unique_ptr<RegexExtractor> extract;
  std::unique_ptr<UnicodeFolder> folder;  // normalize and/or match_key
  bool normalize = false;
  bool match_key = false;
  bool email = false;
  bool phone = false;
  bool phone_strict = true;  // false: a possible number is kept, with a warning
  std::string region;        // phone: field or source region
  Column region_from;
  std::string region_column;
  std::shared_ptr<const ReferenceDataset> enrich;
  Column enrich_by;
  std::optional<FieldCaster> caster;  // empty: the model field has no mapping (NULL)
  // True when any step beyond trim, map, default and cast runs.
  bool has_text_steps = false;
  OnError on_error = OnError::kReject;
};

// The output fields of `entity` (one per field, in order) as `mapping`
// fills them from records of `source_schema`. InvalidArgument listing every
// problem with its YAML path ("did you mean" for a near column name).
Result<std::vector<OutputField>> BuildOutputFields(const Entity& entity, const Mapping& mapping,
                                                   const Schema& source_schema);

}  // namespace sluice
