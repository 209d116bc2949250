// The values claimed so far by `unique` rules: (entity, rule, value) -> the
// (source, key) that owns it. A record is a duplicate only of another
// owner, so a batch replayed after a crash never makes a record a duplicate
// of itself. Kept in a SQLite file (`<state_dir>/validator/unique-<run>.db`)
// that validator replicas on one machine share and that survives a kill -9 of
// the validator: a value is claimed durably before the batch is committed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/audit/sqlite_util.h"
#include "common/core/status.h"

namespace sluice {

class UniqueIndex {
 public:
  // Opens (creating) the index at `path`; ":memory:" for tests.
  static Result<std::unique_ptr<UniqueIndex>> Open(const std::string& path);

  // Claims `value` for (source, key) unless another record owns it; returns
  // the owner (source, key), which is (source, key) itself when it was free
  // or already ours. Call between Begin and Commit.
  Result<std::pair<std::string, std::string>> Claim(const std::string& entity,
                                                    const std::string& rule,
                                                    const std::string& value,
                                                    const std::string& source,
                                                    const std::string& key);
  // The owner of `value`, if any (no claim).
  Result<std::optional<std::pair<std::string, std::string>>> Owner(const std::string& entity,
                                                                   const std::string& rule,
                                                                   const std::string& value);
  Status Begin();
  Status Commit();

 private:
  explicit UniqueIndex(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::unique_ptr<SqliteDb> db_;
  Statement select_;
  Statement insert_;
};

}  // namespace sluice
