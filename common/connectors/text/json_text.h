// Parsing one JSON value from untrusted text (a JSON Lines line, a cell of a
// steward's file) within the limits of common/core/limits.h.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/core/status.h"

namespace sluice {

// The nesting depth of the JSON text (arrays and objects), counted in one
// pass without parsing; brackets inside strings do not count. Stops counting
// at `stop` (returns it) so that a hostile text costs no more than needed.
int JsonDepth(std::string_view text, int stop);

// Parses `text` as one JSON value. Fails with InvalidArgument when it is
// nested deeper than limits::kMaxJsonDepth (before parsing: nothing deeper
// is ever built, printed or walked) or is not valid JSON; the message is
// valid UTF-8 whatever the text holds.
Result<nlohmann::json> ParseJson(std::string_view text);

}  // namespace sluice
