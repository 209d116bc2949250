#include "common/connectors/sqlite/sqlite_connector.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/audit/sqlite_util.h"
#include "common/connectors/sqlite/sqlite_source.h"
#include "common/connectors/sqlite/sqlite_target.h"
#include "common/connectors/table_or_query.h"

namespace sluice::sqlite_connector {
namespace {

// A source's table must exist: a typo there would otherwise surface only
// when the extractor starts. A missing file is reported by the parser.
void CheckTableExists(ConnectorSettings& settings, std::string table) {
  std::error_code ec;
  if (settings.path().empty() || !std::filesystem::is_regular_file(settings.path(), ec)) return;
  auto db = SqliteDb::Open(settings.path(), /*readonly=*/true);
  if (!db.ok()) {
    settings.Issue("path", "cannot open the SQLite database: " + db.status().message());
    return;
  }
  auto st =
      (*db)->Prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1");
  if (!st.ok()) {
    settings.Issue("path", "not a readable SQLite database: " + st.status().message());
    return;
  }
  const std::string written = table;
  if (auto dot = table.find('.'); dot != std::string::npos) table = table.substr(dot + 1);
  Status bound = st->Bind(1, std::string_view(table));
  Result<bool> found = bound.ok() ? st->Step() : Result<bool>(bound);
  if (!found.ok()) {
    settings.Issue("path", "not a readable SQLite database: " + found.status().message());
  } else if (!*found) {
    settings.Issue("table", "table '" + written + "' not found in " + settings.path());
  }
}

void CheckSource(ConnectorSettings& settings) {
  if (std::string problem = TableOrQueryProblem(settings.options()); !problem.empty()) {
    settings.Issue("", problem);
    return;
  }
  auto it = settings.options().find("table");
  if (it != settings.options().end() && !it->second.empty()) {
    CheckTableExists(settings, it->second);
  }
}

// `sluice plan check` says so when the target cannot be written, rather
// than the run halting at its first load (issue 23). SQLite writes its
// journal beside the file, so the folder must be writable too; a folder
// still to be made is made in the nearest existing one.
void CheckTarget(ConnectorSettings& settings) {
  namespace fs = std::filesystem;
  const std::string& path = settings.path();
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return;
  std::error_code ec;
  fs::path folder = fs::absolute(path, ec).parent_path();
  while (!folder.empty() && !fs::exists(folder, ec) && folder != folder.parent_path()) {
    folder = folder.parent_path();
  }
  auto refused = [&](const std::string& what) {
    if (::access(what.c_str(), W_OK) == 0) return false;
    settings.Issue("path", "target not writable: " + what + ": " + std::strerror(errno));
    return true;
  };
  if (fs::exists(path, ec) && refused(path)) return;
  if (!folder.empty()) (void)refused(folder.string());
}

}  // namespace

ConnectorPlugin Plugin() {
  ConnectorPlugin plugin;
  plugin.kind.name = "sqlite";
  plugin.kind.source = ConnectorRole{{"table", "query"}, CheckSource};
  plugin.kind.target = ConnectorRole{{}, CheckTarget};
  plugin.open_source = OpenSqliteSource;
  plugin.open_target = OpenSqliteTarget;
  plugin.ddl = [](const Entity& entity, const TargetSpec&) { return SqliteEntityDdl(entity); };
  return plugin;
}

}  // namespace sluice::sqlite_connector
