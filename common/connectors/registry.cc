// The one registration point of connector plug-ins.
#include <map>

#include "common/connectors/connector.h"
#include "common/connectors/csv/csv_source.h"
#include "common/connectors/jsonl/jsonl_source.h"
#include "common/connectors/postgres/postgres_source.h"
#include "common/connectors/postgres/postgres_target.h"
#include "common/connectors/sqlite/sqlite_source.h"
#include "common/connectors/sqlite/sqlite_target.h"

namespace sluice {
namespace {

const std::map<std::string, SourceFactory>& Sources() {
  static const std::map<std::string, SourceFactory> kSources = {
      {"csv", OpenCsvSource},
      {"jsonl", OpenJsonlSource},
      {"postgres", OpenPostgresSource},
      {"sqlite", OpenSqliteSource},
  };
  return kSources;
}

const std::map<std::string, TargetFactory>& Targets() {
  static const std::map<std::string, TargetFactory> kTargets = {
      {"postgres", OpenPostgresTarget},
      {"sqlite", OpenSqliteTarget},
  };
  return kTargets;
}

}  // namespace

Result<std::unique_ptr<Source>> OpenSource(const SourceSpec& spec) {
  auto it = Sources().find(spec.kind);
  if (it == Sources().end()) {
    return Status::InvalidArgument(spec.yaml_path + ".kind: unknown source kind '" + spec.kind +
                                   "'");
  }
  return it->second(spec);
}

Result<std::unique_ptr<Target>> OpenTarget(const TargetSpec& spec) {
  auto it = Targets().find(spec.kind);
  if (it == Targets().end()) {
    return Status::InvalidArgument(spec.yaml_path + ".kind: unknown target kind '" + spec.kind +
                                   "'");
  }
  return it->second(spec);
}

std::vector<std::string> SourceKinds() {
  std::vector<std::string> out;
  for (const auto& [k, v] : Sources()) out.push_back(k);
  return out;
}

std::vector<std::string> TargetKinds() {
  std::vector<std::string> out;
  for (const auto& [k, v] : Targets()) out.push_back(k);
  return out;
}

}  // namespace sluice
