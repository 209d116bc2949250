// Helpers of the delta runs of deduplicated entities, end to end
// (delta_dedup_e2e_test.cc, incremental_dedup_e2e_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tests/harness.h"

namespace sluice::testing {

// Runs `sql` on the SQLite file `db` with the sqlite3 shell.
inline void ExecSqlite(const std::string& db, const std::string& sql) {
  WriteFile(db + ".sql", sql);
  auto r = Shell("sqlite3 -bail " + db + " < " + db + ".sql");
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// The audit store of the plan in `dir`.
inline std::string Audit(const std::string& dir) { return dir + "/state/audit.db"; }

// The fate of (source, key) in the latest run: "kind|survivor_source|survivor_key".
inline std::string LatestFate(const std::string& dir, const std::string& source,
                              const std::string& key) {
  auto rows = Query(Audit(dir),
                    "SELECT kind || '|' || ifnull(survivor_source,'') || '|' || "
                    "ifnull(survivor_key,'') FROM all_fates WHERE source = '" +
                        source + "' AND key = '" + key +
                        "' AND kind != 'warning' ORDER BY seq DESC, ord DESC LIMIT 1");
  return rows.empty() ? "" : rows[0];
}

// The plan of the delta-dedup tests up to its `dedup:` section: hcp
// (national_id, name, city) from the SQLite tables `people` of crm.db and
// erp.db, both read above `upd`; `crm_extra` adds lines to crm's source.
inline std::string DeltaDedupPlanHead(const std::string& name, const std::string& crm_extra) {
  return "name: " + name + R"yaml(
batch_size: 16
model:
  entities:
    hcp:
      fields:
        national_id: {type: string}
        name: {type: string, required: true}
        city: {type: string}
sources:
  crm:
    kind: sqlite
    path: crm.db
    table: people
    key: id
    incremental: {column: upd})yaml" +
         crm_extra + R"yaml(
  erp:
    kind: sqlite
    path: erp.db
    table: people
    key: id
    incremental: {column: upd}
mappings:
  - entity: hcp
    source: crm
    fields: {national_id: nid, name: name, city: city}
  - entity: hcp
    source: erp
    fields: {national_id: nid, name: name, city: city}
)yaml";
}

}  // namespace sluice::testing
