// How progress reads: `sluice status`'s table and JSON, and the live display
// of `sluice run` (redrawn on a terminal, a line every few seconds
// otherwise, nothing when quiet).
#include "cli/progress_view.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli/progress_display.h"

namespace sluice::cli {
namespace {

v1::RunProgress Snapshot(uint64_t loaded) {
  v1::RunProgress p;
  p.set_run_id("run-1");
  p.set_plan("quickstart");
  p.set_status("running");
  p.set_started_ms(1'000);
  p.set_at_ms(63'000);
  p.set_wave(0);
  p.set_wave_name("hcp");
  p.set_waves(2);
  p.set_host("db1");
  p.set_pid(4242);
  p.set_control_endpoint("tcp://127.0.0.1:5570");
  v1::EntityProgress* e = p.add_entities();
  e->set_entity("hcp");
  e->set_phase("output");
  e->set_extracted(55000);
  e->set_transformed(55000);
  e->set_ingested(54983);
  e->set_resolved(54983);
  e->set_validated(20000);
  e->set_loaded(loaded);
  e->set_merged(2075);
  e->set_rejected(35);
  e->set_expected(55000);
  e->set_records_per_second(4100);
  e->set_eta_seconds(75);
  v1::EntityProgress* later = p.add_entities();
  later->set_wave(1);
  later->set_entity("interaction");
  later->set_phase("waiting");
  later->set_eta_seconds(-1);
  v1::WorkerProgress* w = p.add_workers();
  w->set_identity("loader-0");
  w->set_role("loader");
  w->set_host("db1");
  w->set_pid(4250);
  w->set_alive(true);
  w->set_last_heartbeat_ms(62'500);
  w->set_holding("run-1/0/hcp/dedup/0/3");
  return p;
}

TEST(ProgressViewTest, DurationsReadShort) {
  EXPECT_EQ(FormatDuration(42), "42s");
  EXPECT_EQ(FormatDuration(187), "3m07s");
  EXPECT_EQ(FormatDuration(3720), "1h02m");
  EXPECT_EQ(FormatDuration(-1), "-");
}

TEST(ProgressViewTest, AnEntityLineShowsItsFurthestStageRateAndEta) {
  const std::string line = EntityLine(Snapshot(19980).entities(0));
  EXPECT_NE(line.find("hcp"), std::string::npos) << line;
  EXPECT_NE(line.find("loaded 19980/55000"), std::string::npos) << line;
  EXPECT_NE(line.find("4100/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 1m15s"), std::string::npos) << line;
  EXPECT_NE(line.find("rejected 35"), std::string::npos) << line;
}

TEST(ProgressViewTest, StatusTextHasEveryStageAndEveryWorker) {
  const std::string text = StatusText(Snapshot(19980), 63'000);
  for (const char* want :
       {"run run-1 (plan quickstart): running for 1m02s, wave hcp (1 of 2)", "pid 4242 on db1",
        "extracted", "transformed", "ingested", "resolved", "validated", "loaded", "19980",
        "loader-0", "0s ago", "run-1/0/hcp/dedup/0/3", "interaction"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  v1::RunProgress halted = Snapshot(19980);
  halted.set_status("halted");
  halted.set_reason("halted by ops@db1 with `sluice halt`: window");
  const std::string after = StatusText(halted, 63'000);
  EXPECT_NE(after.find("reason: halted by ops@db1"), std::string::npos) << after;
  EXPECT_NE(after.find("sluice resume run-1"), std::string::npos) << after;
}

TEST(ProgressViewTest, StatusJsonCarriesNumbersAsNumbers) {
  const nlohmann::json j = StatusJson(Snapshot(19980));
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["entities"][0]["loaded"].get<uint64_t>(), 19980u);
  EXPECT_EQ(j["entities"][1]["eta_seconds"].get<int64_t>(), -1);
  EXPECT_EQ(j["workers"][0]["alive"], true);
  EXPECT_EQ(j["coordinator"]["pid"].get<uint32_t>(), 4242u);
}

TEST(ProgressDisplayTest, PlainModePrintsALineEveryFewSeconds) {
  std::ostringstream err;
  ProgressDisplay display(err, ProgressDisplay::Mode::kPlain, std::chrono::seconds(5));
  const auto t0 = std::chrono::steady_clock::time_point{};
  display.Show(Snapshot(0), t0);  // nothing yet: a short run prints no line
  display.Show(Snapshot(100), t0 + std::chrono::seconds(2));
  EXPECT_EQ(err.str(), "");
  display.Show(Snapshot(5000), t0 + std::chrono::seconds(5));
  display.Show(Snapshot(6000), t0 + std::chrono::seconds(7));
  display.Show(Snapshot(9000), t0 + std::chrono::seconds(10));
  display.Close();
  const std::string out = err.str();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_NE(out.find("hcp output loaded 5000/55000"), std::string::npos) << out;
  EXPECT_NE(out.find("hcp output loaded 9000/55000"), std::string::npos) << out;
  EXPECT_EQ(out.find("interaction"), std::string::npos) << "a waiting entity is not shown";
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << "no terminal codes in plain lines";
}

TEST(ProgressDisplayTest, TerminalModeRedrawsInPlace) {
  std::ostringstream err;
  ProgressDisplay display(err, ProgressDisplay::Mode::kTerminal);
  const auto t0 = std::chrono::steady_clock::time_point{};
  display.Show(Snapshot(100), t0);
  display.Show(Snapshot(200), t0 + std::chrono::milliseconds(100));  // too soon: kept
  display.Show(Snapshot(300), t0 + std::chrono::seconds(1));
  display.Show(Snapshot(400), t0 + std::chrono::milliseconds(1100));
  display.Close();  // draws the last one it kept
  const std::string out = err.str();
  EXPECT_NE(out.find("loaded 100/"), std::string::npos);
  EXPECT_EQ(out.find("loaded 200/"), std::string::npos);
  EXPECT_NE(out.find("loaded 300/"), std::string::npos);
  EXPECT_NE(out.find("loaded 400/"), std::string::npos);
  // Two lines (the run, hcp) moved up over and cleared before each redraw.
  EXPECT_NE(out.find("\x1b[2F\x1b[J"), std::string::npos);
}

TEST(ProgressDisplayTest, QuietShowsNothing) {
  std::ostringstream err;
  ProgressDisplay display(err, ProgressDisplay::Mode::kQuiet);
  display.Show(Snapshot(1), std::chrono::steady_clock::time_point{});
  display.Show(Snapshot(1), std::chrono::steady_clock::time_point{} + std::chrono::hours(1));
  display.Close();
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(ProgressDisplay::ModeFor(true), ProgressDisplay::Mode::kQuiet);
}

}  // namespace
}  // namespace sluice::cli
