// Issue 17, "checked as a person would see it": the run report of the
// consolidation example, and the profile page, opened in headless Chromium
// (Debian's `chromium`, scripts/setup.sh): the page renders (its screenshot
// is not the blank page's), its charts are in the rendered DOM, and the
// browser logs no console error. Skipped, saying so, when chromium is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "tests/harness.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

std::string Chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(path)) return path;
  }
  return "";
}

// Headless Chromium on `page` with a throwaway profile in `dir`.
CommandResult Browse(const std::string& dir, const std::string& page, const std::string& what) {
  return Shell(Chromium() +
               " --headless=new --no-sandbox --disable-gpu --no-first-run"
               " --user-data-dir=" +
               dir +
               "/chromium-profile --enable-logging=stderr --v=0"
               " --window-size=1200,1600 --virtual-time-budget=2000 " +
               what + " file://" + page + " 2>" + dir + "/chromium.log");
}

// The screenshot of `page`, as PNG bytes.
std::string Screenshot(const std::string& dir, const std::string& page) {
  const std::string png = dir + "/" + fs::path(page).stem().string() + ".png";
  Browse(dir, page, "--screenshot=" + png);
  return fs::exists(png) ? ReadFile(png) : "";
}

// Checks what a person would: the page renders (its screenshot is far from
// the blank page's size: a blank PNG compresses to almost nothing), every
// chart in `charts` is in the DOM Chromium rendered, and no console error.
void CheckRendered(const std::string& dir, const std::string& page,
                   const std::vector<std::string>& charts) {
  const std::string blank_page = dir + "/blank.html";
  WriteFile(blank_page, "<!DOCTYPE html><html><body></body></html>");
  const std::string blank = Screenshot(dir, blank_page);
  const std::string shot = Screenshot(dir, page);
  ASSERT_FALSE(blank.empty()) << ReadFile(dir + "/chromium.log");
  ASSERT_GT(shot.size(), 0u) << ReadFile(dir + "/chromium.log");
  EXPECT_EQ(shot.substr(1, 3), "PNG");
  EXPECT_GT(shot.size(), 4 * blank.size()) << "blank? " << shot.size() << " vs " << blank.size();

  auto dom = Browse(dir, page, "--dump-dom");
  ASSERT_EQ(dom.exit_code, 0) << ReadFile(dir + "/chromium.log");
  for (const std::string& chart : charts) {
    EXPECT_NE(dom.out.find(chart), std::string::npos) << chart << " not rendered";
  }
  const std::string log = ReadFile(dir + "/chromium.log");
  EXPECT_FALSE(std::regex_search(log, std::regex("CONSOLE.*(Error|Uncaught)")))
      << "console errors:\n"
      << log;
}

TEST(RunReportHtml, TheConsolidationReportRendersInChromium) {
  if (Chromium().empty())
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  ScratchDir dir("run-report-html");
  PrepareConsolidation(dir.path());
  auto run = Shell(BinDir() + "/sluice run " + dir.path() +
                   "/plan.yaml --local --json --state-dir " + dir.path() + "/state");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string run_id = run.json["run_id"];
  // `sluice run` wrote the page beside the wave reports and said where.
  const std::string page = dir.path() + "/state/reports/" + run_id + "/report.html";
  EXPECT_NE(run.out.find("report: " + page), std::string::npos) << run.out;
  ASSERT_TRUE(fs::exists(page));
  const std::string html = ReadFile(page);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // nothing fetched
  EXPECT_EQ(html.find("<script"), std::string::npos);
  CheckRendered(dir.path(), page,
                {"<svg class=\"chart\" id=\"flow\"", "Reconciliation",
                 "Rejections and reviews by rule", "PASS"});

  // `sluice report RUN --html FILE` writes the same page elsewhere.
  const std::string copy = dir.path() + "/copy.html";
  auto report = Shell(BinDir() + "/sluice report " + run_id + " --html " + copy + " --state-dir " +
                      dir.path() + "/state");
  ASSERT_EQ(report.exit_code, 0) << report.out << report.err;
  EXPECT_EQ(ReadFile(copy), html);
  auto json =
      Shell(BinDir() + "/sluice report " + run_id + " --json --state-dir " + dir.path() + "/state");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["run"]["status"], "completed");
  ASSERT_EQ(doc["waves"].size(), 2u);
  EXPECT_EQ(doc["waves"][0]["reconciliation"]["verdict"], "PASS");
}

// A run with scored dedup: the page shows the clusters by size and the
// histogram of match weights with both thresholds drawn on it, and the JSON
// has every scored pair in the histogram.
TEST(RunReportHtml, TheDedupFiguresOfAScoredRunAreDrawn) {
  if (Chromium().empty())
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  ScratchDir dir("run-report-dedup");
  PrepareQuickstart(dir.path(), 2000, 1000);
  std::string plan = ReadFile(dir.path() + "/plan.yaml");
  const std::string exact =
      "  hcp: {key: national_id, survivorship: {source_priority: [erp, crm], most_recent: "
      "updated_at}}\n";
  const auto at = plan.find(exact);
  ASSERT_NE(at, std::string::npos) << "the quickstart's dedup changed";
  plan.replace(at, exact.size(), R"yaml(  hcp:
    blocking:
      - {name: nid, on: [national_id]}
      - {name: name_post, on: ["soundex(last_name)", postcode]}
    comparisons:
      - {field: first_name, comparator: jaro_winkler, thresholds: [0.92, 0.8]}
      - {field: last_name, comparator: jaro_winkler, thresholds: [0.94, 0.85]}
      - {field: email, comparator: exact}
      - {field: city, comparator: exact}
    thresholds: {merge: 9, review: 4}
    survivorship: {source_priority: [erp, crm]}
)yaml");
  WriteFile(dir.path() + "/plan.yaml", plan);
  auto run = Shell(BinDir() + "/sluice run " + dir.path() +
                   "/plan.yaml --local --json --state-dir " + dir.path() + "/state");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string run_id = run.json["run_id"];
  auto json =
      Shell(BinDir() + "/sluice report " + run_id + " --json --state-dir " + dir.path() + "/state");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto doc = nlohmann::json::parse(json.out);
  const auto& dedup = doc["waves"][0]["dedup"];
  ASSERT_EQ(dedup.size(), 1u) << json.out;
  EXPECT_EQ(dedup[0]["merge_threshold"], 9.0);
  EXPECT_EQ(dedup[0]["review_threshold"], 4.0);
  uint64_t binned = 0, clustered = 0;
  for (const auto& bin : dedup[0]["weight_bins"]) binned += bin[1].get<uint64_t>();
  for (const auto& c : dedup[0]["clusters_by_size"]) {
    clustered += (c[0].get<uint64_t>() - 1) * c[1].get<uint64_t>();
  }
  EXPECT_GT(binned, 0u);
  EXPECT_LE(binned, dedup[0]["comparisons"].get<uint64_t>());
  // Each record merged into a survivor is one member beyond its cluster's first.
  uint64_t merged = 0;
  for (const auto& e : run.json["entities"]) merged += e["merged"].get<uint64_t>();
  EXPECT_GT(merged, 0u) << run.out;
  EXPECT_EQ(clustered, merged) << run.out;
  const std::string page = dir.path() + "/state/reports/" + run_id + "/report.html";
  CheckRendered(dir.path(), page,
                {"<svg class=\"chart\" id=\"weights\"", "<svg class=\"chart\" id=\"clusters\"",
                 "merge 9", "review 4", "Deduplication"});
}

TEST(RunReportHtml, TheProfilePageRendersInChromium) {
  if (Chromium().empty())
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  ScratchDir dir("profile-html");
  PrepareConsolidation(dir.path());
  const std::string page = dir.path() + "/profile.html";
  auto profile = Shell(BinDir() + "/sluice profile " + dir.path() + "/plan.yaml --html " + page);
  ASSERT_EQ(profile.exit_code, 0) << profile.out << profile.err;
  CheckRendered(dir.path(), page, {"<table"});
}

}  // namespace
}  // namespace sluice::testing
