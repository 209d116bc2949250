// Sources are pinned for the run (issue 23; docs/limits.md#sources-are-pinned).
//
// A batch must be extractable again byte-identically (DESIGN.md, "Batch"), so
// a file source may not change while a run reads it. The extractor takes a
// file's pin (path, size, modification time, device and inode) before the
// run first reads it, and again after every batch it reads: a source that
// shrank, grew, was rewritten or replaced no longer matches, and nothing of
// the batch read from it is passed on.
#pragma once

#include <optional>
#include <string>

#include "common/core/status.h"
#include "common/plan/plan.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// The pin of `spec`'s file now; nullopt for a source without a file (a
// server kind). IoError naming the source when the file cannot be examined
// (it is gone).
Result<std::optional<v1::SourcePin>> PinSource(const SourceSpec& spec);

// What changed between the pin a run took (`pinned`) and `now`, for people
// ("it shrank from 41,000,000 to 20,000,000 bytes"); empty when they match.
std::string PinChange(const v1::SourcePin& pinned, const v1::SourcePin& now);

}  // namespace sluice
