// What `sluice plan check` (and `sluice profile`) says about personal data (issue 19,
// docs/privacy.md): which fields a run masks, and how; or, in an
// environment that is not production, which pii fields it would copy as
// they are.
#pragma once

#include <string>
#include <vector>

#include "common/plan/plan.h"

namespace sluice::cli {

// True for the environment names that mean production: prod, production,
// live, and names starting with "prod_" (case-insensitive).
bool IsProductionEnvironment(const std::string& name);

// The notes of `plan` (resolved for its environment, "" for none), each
// "<plan_path>: note: ..." or "<plan_path>: warning: ...": under a mode,
// every pii field a mapping fills with its shape ("hcp.email as email") and
// the sources whose rejected rows are withheld; with no mode, in a
// non-production environment, the pii fields copied as they are. Empty when
// no mapping fills a pii field.
std::vector<std::string> PiiCheckLines(const std::string& plan_path, const Plan& plan);

// Why `sluice profile` does not run on `plan` (resolved for its
// environment): "" when no pii mode applies or no mapping fills a pii field;
// else "profile refused: environment staging masks pii (mode pseudonymise),
// ...": a profile prints the sources' real values, which the mode keeps out
// of every output of a run.
std::string PiiProfileRefusal(const Plan& plan);

}  // namespace sluice::cli
