// The plan and model YAML: any bytes as a plan (then again with its first
// environment applied, when it names one) and as a model file. Relative
// paths resolve against examples/quickstart, so that the seeds' model file
// is found.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/plan/plan.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string base_dir = SLUICE_SOURCE_DIR "/examples/quickstart";
  std::vector<PlanIssue> issues;
  Plan plan = ParsePlan(text, base_dir, &issues);
  if (!plan.environment_names.empty()) {
    std::vector<PlanIssue> env_issues, notes;
    ParsePlanForCheck(text, base_dir, &env_issues, &notes, plan.environment_names.front());
  }
  // What `sluice plan check` prints and what workers are sent.
  for (const PlanIssue& issue : issues) fuzz::CheckUtf8(issue.ToString(), "issue is not utf-8");
  if (issues.empty()) fuzz::CheckUtf8(plan.yaml_text, "shipped plan text is not utf-8");
  std::vector<PlanIssue> model_issues;
  ParseModel(text, &model_issues);
  return 0;
}
