// Rows an extractor rejects keep their raw text (a steward finds the row by
// it). Under the plan's PII mode (docs/privacy.md) that text may hold
// personal data that no mapping has masked yet, so it is withheld there.
#pragma once

#include <string>
#include <vector>

#include "common/plan/plan.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// True when the plan masks PII and a mapping from `source` fills a field
// marked pii: its rejected rows may carry personal data.
bool SourceCarriesPii(const Plan& plan, const std::string& source);

// Each reject's raw text replaced by "[withheld: N bytes; pii mode M]", and
// every word of it (3 or more letters or digits) that its reason or
// suggestion quotes replaced by "***". The line and the key (never a pii
// column: plan_pii.cc) still say where the row is; a malformed row, whose
// text at the key's position may be another column's, is keyed
// "line:<n>".
void WithholdRawRows(const Plan& plan, std::vector<v1::Fate>* rejects);

}  // namespace sluice
