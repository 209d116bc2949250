// The live progress of `sluice run` (issue 15; docs/operations.md): on a
// terminal, the run's state and one line per entity, redrawn in place; when
// stdout is not a terminal, a plain progress line every few seconds; nothing
// with --quiet. It writes to stderr, so that the summary and the --json
// object stay alone on stdout. Not thread-safe.
#pragma once

#include <chrono>
#include <ostream>

#include "sluice/v1/control.pb.h"

namespace sluice::cli {

class ProgressDisplay {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Mode {
    kQuiet,     // nothing
    kTerminal,  // redrawn lines
    kPlain,     // a line every `plain_every`
  };

  // The mode for this process: a terminal when stdout and stderr both are.
  static Mode ModeFor(bool quiet);

  // Draws on `out` (stderr); in kPlain mode a line at most every `plain_every`.
  ProgressDisplay(std::ostream& out, Mode mode,
                  std::chrono::milliseconds plain_every = std::chrono::seconds(5));

  // A snapshot of the run taken at `now`: drawn if it is time to.
  void Show(const v1::RunProgress& progress, TimePoint now);
  // The run ended: a terminal display is drawn once more with the last
  // snapshot and stays, the cursor below it, so that the summary follows.
  void Close();

 private:
  void Draw(const v1::RunProgress& progress);

  std::ostream& out_;
  Mode mode_;
  std::chrono::milliseconds every_;
  bool drawn_ = false;
  TimePoint last_{};
  int lines_ = 0;            // lines of the last terminal drawing
  v1::RunProgress undrawn_;  // the last snapshot, when it was not drawn
  bool has_undrawn_ = false;
};

}  // namespace sluice::cli
