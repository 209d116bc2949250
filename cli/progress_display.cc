#include "cli/progress_display.h"

#include <unistd.h>

#include "cli/progress_view.h"

namespace sluice::cli {
namespace {

// A terminal is redrawn at most this often: enough to look live, little
// enough not to flicker or cost the coordinator anything.
constexpr std::chrono::milliseconds kRedraw{250};

}  // namespace

ProgressDisplay::Mode ProgressDisplay::ModeFor(bool quiet) {
  if (quiet) return Mode::kQuiet;
  return isatty(STDOUT_FILENO) && isatty(STDERR_FILENO) ? Mode::kTerminal : Mode::kPlain;
}

ProgressDisplay::ProgressDisplay(std::ostream& out, Mode mode,
                                 std::chrono::milliseconds plain_every)
    : out_(out), mode_(mode), every_(plain_every) {}

void ProgressDisplay::Show(const v1::RunProgress& p, TimePoint now) {
  if (mode_ == Mode::kQuiet) return;
  if (mode_ == Mode::kPlain && !drawn_) {
    // The first line after `every_`: a short run prints none.
    drawn_ = true;
    last_ = now;
    return;
  }
  const auto gap = mode_ == Mode::kTerminal ? kRedraw : every_;
  if (drawn_ && now - last_ < gap) {
    undrawn_ = p;
    has_undrawn_ = true;
    return;
  }
  drawn_ = true;
  last_ = now;
  if (mode_ == Mode::kPlain) {
    out_ << ProgressLine(p) << "\n";
    out_.flush();
    return;
  }
  Draw(p);
}

void ProgressDisplay::Draw(const v1::RunProgress& p) {
  has_undrawn_ = false;
  // Back to the first line of the last drawing, cleared to the end.
  if (lines_ > 0) out_ << "\x1b[" << lines_ << "F\x1b[J";
  std::string head = p.run_id() + " " + p.status();
  if (p.waves() > 0) {
    head += ", wave " + p.wave_name() + " (" + std::to_string(p.wave() + 1) + "/" +
            std::to_string(p.waves()) + ")";
  }
  if (p.started_ms() > 0 && p.at_ms() >= p.started_ms()) {
    head += ", " + FormatDuration((p.at_ms() - p.started_ms()) / 1000);
  }
  if (p.restarts() > 0) head += ", " + std::to_string(p.restarts()) + " worker restart(s)";
  out_ << head << "\n";
  lines_ = 1;
  if (!p.waiting().empty() && p.status() != "running") {
    out_ << "  " << p.waiting() << "\n";
    ++lines_;
  }
  for (const auto& e : p.entities()) {
    if (e.wave() != p.wave() && e.phase() != "finished") continue;  // a later wave's
    out_ << "  " << EntityLine(e) << "\n";
    ++lines_;
  }
  out_.flush();
}

void ProgressDisplay::Close() {
  if (mode_ == Mode::kTerminal && has_undrawn_) Draw(undrawn_);
  has_undrawn_ = false;
}

}  // namespace sluice::cli
