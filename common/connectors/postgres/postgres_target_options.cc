// The PostgreSQL target's options (target.options in the plan), each
// refused with its YAML path (docs/postgres.md).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/connectors/postgres/postgres_target.h"

namespace sluice {
namespace {

Result<int64_t> IntOption(const TargetSpec& spec, const std::string& name, int64_t fallback,
                          int64_t min) {
  auto it = spec.options.find(name);
  if (it == spec.options.end()) return fallback;
  int64_t v = 0;
  const std::string& t = it->second;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || v < min) {
    return Status::InvalidArgument(spec.yaml_path + "." + name + ": must be an integer >= " +
                                   std::to_string(min) + ", got '" + t + "'");
  }
  return v;
}

}  // namespace

Result<PostgresTargetOptions> ParsePostgresTargetOptions(const TargetSpec& spec) {
  for (const auto& [name, value] : spec.options) {
    if (name != "dsn" && std::find(std::begin(kPostgresTargetKeys), std::end(kPostgresTargetKeys),
                                   name) == std::end(kPostgresTargetKeys)) {
      return Status::InvalidArgument(spec.yaml_path + "." + name +
                                     ": unknown option of a postgres target");
    }
  }
  PostgresTargetOptions o;
  auto it = spec.options.find("dsn");
  if (it == spec.options.end() || it->second.empty()) {
    return Status::InvalidArgument(spec.yaml_path +
                                   ".dsn: required (a libpq connection string, e.g."
                                   " 'host=db dbname=crm')");
  }
  o.dsn = it->second;
  if (auto s = spec.options.find("schema"); s != spec.options.end()) {
    if (s->second.empty()) {
      return Status::InvalidArgument(spec.yaml_path + ".schema: must not be empty");
    }
    o.schema = s->second;
  }
  if (auto r = spec.options.find("max_rows_per_second"); r != spec.options.end()) {
    char* end = nullptr;
    o.max_rows_per_second = std::strtod(r->second.c_str(), &end);
    if (r->second.empty() || *end != '\0' || !std::isfinite(o.max_rows_per_second) ||
        o.max_rows_per_second < 0) {
      return Status::InvalidArgument(
          spec.yaml_path + ".max_rows_per_second: must be a number >= 0, got '" + r->second + "'");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(int64_t attempts, IntOption(spec, "max_attempts", 5, 1));
  SLUICE_ASSIGN_OR_RETURN(o.retry_base_ms, IntOption(spec, "retry_base_ms", 100, 0));
  SLUICE_ASSIGN_OR_RETURN(o.retry_max_ms, IntOption(spec, "retry_max_ms", 5000, 0));
  o.max_attempts = static_cast<int>(std::min<int64_t>(attempts, 1000));
  return o;
}

}  // namespace sluice
