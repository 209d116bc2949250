// The review file a steward edits: any bytes as the CSV `sluice review
// import` reads, with its JSON `corrections` cells, checked against the
// quickstart's model.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "cli/review_file.h"
#include "fuzz/fuzz_input.h"

namespace {

sluice::Plan QuickstartPlan() {
  std::ifstream in(SLUICE_SOURCE_DIR "/examples/quickstart/model.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<sluice::PlanIssue> issues;
  sluice::Plan plan;
  plan.name = "quickstart";
  plan.model = sluice::ParseModel(text.str(), &issues);
  if (plan.model.entities.empty()) sluice::fuzz::Fail("quickstart model not found");
  return plan;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  static const Plan plan = QuickstartPlan();
  fuzz::MemFile file(data, size);
  auto decisions = cli::ReadReviewDecisions(plan, file.path(), 0);
  if (!decisions.ok()) {
    fuzz::CheckUtf8(decisions.status().message(), "review error is not utf-8");
    return 0;
  }
  for (const auto& d : decisions->records) {
    v1::RecordDecision back;
    fuzz::Check(back.ParseFromString(d.SerializeAsString()), "decision does not parse back");
  }
  return 0;
}
