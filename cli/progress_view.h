// How a run's progress reads (issue 15; docs/operations.md): the table of
// `sluice status`, its `--json` object, and the per-entity lines `sluice run`
// draws while it runs. All of it from a v1::RunProgress, whether the
// coordinator just answered it or the audit store kept the last one.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "sluice/v1/control.pb.h"

namespace sluice::cli {

// "1h02m", "3m07s", "42s"; "-" for a negative (unknown) duration.
std::string FormatDuration(int64_t seconds);

// One entity in one line: its phase, the count of its furthest stage
// against what is expected, the rate and the ETA.
// "hcp          output   loaded 12270/52890     4100 rec/s  ETA 12s"
std::string EntityLine(const v1::EntityProgress& entity);

// The entities of the run that are in flight, in one line, for the plain
// progress lines of `sluice run` when stderr is not a terminal.
std::string ProgressLine(const v1::RunProgress& progress);

// The whole status as `sluice status` prints it: the run and its state,
// what it waits for, a table of the entities with every stage's count, and
// a table of the workers. `now_ms` dates the heartbeats.
std::string StatusText(const v1::RunProgress& progress, int64_t now_ms);

// The same as one JSON object (numbers as numbers).
nlohmann::json StatusJson(const v1::RunProgress& progress);

}  // namespace sluice::cli
