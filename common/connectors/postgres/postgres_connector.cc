#include "common/connectors/postgres/postgres_connector.h"

#include <cmath>
#include <map>

#include "common/connectors/postgres/postgres_load.h"
#include "common/connectors/postgres/postgres_source.h"
#include "common/connectors/postgres/postgres_target.h"
#include "common/connectors/table_or_query.h"

namespace sluice::postgres_connector {
namespace {

void CheckSource(ConnectorSettings& settings) {
  if (std::string problem = TableOrQueryProblem(settings.options()); !problem.empty()) {
    settings.Issue("", problem);
  }
}

// The schema is a plain name; the rate limit (rows per second, 0 for none)
// and the retry bounds (whole numbers: at least 1 attempt, backoffs of 0 ms
// or more) are read as ParsePostgresTargetOptions will read them.
void CheckTarget(ConnectorSettings& settings) {
  if (auto it = settings.options().find("schema"); it != settings.options().end()) {
    if (!IsPlainName(it->second)) {
      settings.Issue(
          "schema", "not a valid schema name (letters, digits and '_', not starting with a digit)");
    }
  }
  constexpr char kRate[] = "must be a number of rows per second, 0 or more (0: no limit)";
  if (auto rate = settings.Number("max_rows_per_second", kRate)) {
    if (!std::isfinite(*rate) || *rate < 0) settings.Issue("max_rows_per_second", kRate);
  }
  std::map<std::string, int64_t> read;
  for (const auto& [key, min] : {std::pair<const char*, int64_t>{"max_attempts", 1},
                                 {"retry_base_ms", 0},
                                 {"retry_max_ms", 0}}) {
    std::optional<int64_t> n = settings.Int(key);
    if (!n) continue;
    if (*n < min) {
      settings.Issue(key, "must be " + std::to_string(min) + " or more");
      continue;
    }
    read[key] = *n;
  }
  if (read.count("retry_base_ms") && read.count("retry_max_ms") &&
      read["retry_base_ms"] > read["retry_max_ms"]) {
    settings.Issue("", "retry_base_ms is greater than retry_max_ms");
  }
}

}  // namespace

ConnectorPlugin Plugin() {
  ConnectorPlugin plugin;
  plugin.kind.name = "postgres";
  plugin.kind.server = true;
  plugin.kind.dsn_help = "a libpq connection string, e.g. 'host=db1 port=5432 dbname=crm'";
  plugin.kind.source = ConnectorRole{{"table", "query"}, CheckSource};
  plugin.kind.target =
      ConnectorRole{{std::begin(kPostgresTargetKeys), std::end(kPostgresTargetKeys)}, CheckTarget};
  plugin.open_source = OpenPostgresSource;
  plugin.open_target = OpenPostgresTarget;
  plugin.ddl = [](const Entity& entity, const TargetSpec& spec) {
    auto schema = spec.options.find("schema");
    return PgEntity::Build(
               entity,
               schema != spec.options.end() ? schema->second : PostgresTargetOptions().schema,
               /*ordinal=*/0)
        .create_table;
  };
  return plugin;
}

}  // namespace sluice::postgres_connector
