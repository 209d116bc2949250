#include "cli/plan_sources.h"

#include <map>
#include <memory>
#include <sstream>

#include "common/connectors/connector.h"
#include "transformer/transform.h"

namespace sluice::cli {
namespace {

// Problems of a status, one "path: message" per line of its message.
void AddLines(const std::string& plan_path, const Status& status, std::vector<std::string>* lines) {
  std::istringstream in(status.message());
  for (std::string line; std::getline(in, line);) lines->push_back(plan_path + ": " + line);
}

// Whether a source failing to open with `status` may open at run time: the
// file is not there yet, the server is down.
bool MayOpenLater(const Status& status) {
  return status.code() == StatusCode::kNotFound || status.code() == StatusCode::kIoError ||
         status.code() == StatusCode::kUnavailable;
}

}  // namespace

void CheckPlanSources(const std::string& plan_path, const Plan& plan,
                      std::vector<std::string>* problems, std::vector<std::string>* notes) {
  // The raw schema of each source, opened once; nullptr when it did not open.
  std::map<std::string, std::unique_ptr<Source>> opened;
  for (const Mapping& mapping : plan.mappings) {
    auto it = opened.find(mapping.source);
    if (it == opened.end()) {
      std::unique_ptr<Source> source;
      for (const SourceSpec& spec : plan.sources) {
        if (spec.name != mapping.source) continue;
        auto open = OpenSource(spec);
        if (open.ok()) {
          source = std::move(open).value();
        } else if (MayOpenLater(open.status())) {
          notes->push_back(
              plan_path + ": note: " + spec.yaml_path +
              ": cannot open the source to check its columns now: " + open.status().message());
        } else {
          AddLines(plan_path, open.status(), problems);
        }
      }
      it = opened.emplace(mapping.source, std::move(source)).first;
    }
    if (it->second == nullptr) continue;
    auto transformer =
        EntityTransformer::Create(plan, mapping.entity, mapping.source, it->second->schema());
    if (!transformer.ok()) AddLines(plan_path, transformer.status(), problems);
  }
}

}  // namespace sluice::cli
