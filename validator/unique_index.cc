#include "validator/unique_index.h"

#include <filesystem>

namespace sluice {

Result<std::unique_ptr<UniqueIndex>> UniqueIndex::Open(const std::string& path) {
  if (path != ":memory:") {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  }
  SLUICE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path));
  SLUICE_RETURN_IF_ERROR(db->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS unique_values(entity TEXT, rule TEXT, value TEXT, source TEXT,"
      " key TEXT, PRIMARY KEY(entity, rule, value)) WITHOUT ROWID;"));
  std::unique_ptr<UniqueIndex> index(new UniqueIndex(std::move(db)));
  SLUICE_ASSIGN_OR_RETURN(index->select_,
                          index->db_->Prepare("SELECT source, key FROM unique_values WHERE "
                                              "entity=? AND rule=? AND value=?"));
  SLUICE_ASSIGN_OR_RETURN(index->insert_,
                          index->db_->Prepare("INSERT INTO unique_values VALUES(?,?,?,?,?)"));
  return index;
}

Status UniqueIndex::Begin() { return db_->Exec("BEGIN IMMEDIATE"); }
Status UniqueIndex::Commit() { return db_->Exec("COMMIT"); }

Result<std::optional<std::pair<std::string, std::string>>> UniqueIndex::Owner(
    const std::string& entity, const std::string& rule, const std::string& value) {
  SLUICE_RETURN_IF_ERROR(select_.Reset());
  SLUICE_RETURN_IF_ERROR(select_.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(select_.Bind(2, rule));
  SLUICE_RETURN_IF_ERROR(select_.Bind(3, value));
  SLUICE_ASSIGN_OR_RETURN(bool row, select_.Step());
  std::optional<std::pair<std::string, std::string>> owner;
  if (row) owner.emplace(std::string(select_.ColumnText(0)), std::string(select_.ColumnText(1)));
  SLUICE_RETURN_IF_ERROR(select_.Reset());
  return owner;
}

Result<std::pair<std::string, std::string>> UniqueIndex::Claim(const std::string& entity,
                                                               const std::string& rule,
                                                               const std::string& value,
                                                               const std::string& source,
                                                               const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto owner, Owner(entity, rule, value));
  if (owner) return *owner;
  SLUICE_RETURN_IF_ERROR(insert_.Reset());
  SLUICE_RETURN_IF_ERROR(insert_.Bind(1, entity));
  SLUICE_RETURN_IF_ERROR(insert_.Bind(2, rule));
  SLUICE_RETURN_IF_ERROR(insert_.Bind(3, value));
  SLUICE_RETURN_IF_ERROR(insert_.Bind(4, source));
  SLUICE_RETURN_IF_ERROR(insert_.Bind(5, key));
  SLUICE_RETURN_IF_ERROR(insert_.Run());
  return std::make_pair(source, key);
}

}  // namespace sluice
