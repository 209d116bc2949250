// The connector kinds a plan may name, as the plan parser sees them.
//
// The plan parser names no kind. For each source and the target it asks a
// ConnectorCatalog whether the kind exists, which keys it accepts, whether it
// connects to a server (`dsn`) or reads a file (`path`), and lets the kind
// check its own settings. The connectors fill the catalog: each kind's
// registration (common/connectors/<kind>/<kind>_connector.cc) carries a
// ConnectorKind beside its factories, and BuiltinConnectors() (defined in
// common/connectors/registry.cc, target sluice_connectors) lists the kinds of
// this build.
//
// Why a catalog passed in rather than a lookup: the connectors depend on the
// plan (they read SourceSpec and TargetSpec), so the plan cannot depend on
// them. sluice_plan therefore holds only this interface and links no
// connector and no driver (libpq, SQLite). ParsePlan and LoadPlan take the
// catalog as their last argument; its default, BuiltinConnectors(), is
// evaluated where they are called, so a binary that parses plans with the
// default links sluice_connectors, and one that passes its own catalog (a
// unit test with a made-up kind) need not.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// The settings of one source or target while its plan is parsed, as its
// kind's check sees them. Implemented by the plan parser; not thread-safe.
class ConnectorSettings {
 public:
  virtual ~ConnectorSettings() = default;
  // Where the settings are: "sources.crm" or "target".
  virtual const std::string& yaml_path() const = 0;
  // The file of a file kind, resolved against the plan's folder ("" for a
  // server kind, or when `path` is missing).
  virtual const std::string& path() const = 0;
  // The scalar settings other than `kind` and `path`, as text, in the
  // spelling the connector will read (the readers below rewrite them).
  virtual const std::map<std::string, std::string>& options() const = 0;
  // The setting `key` as a boolean, a whole number or a number: nullopt when
  // it is absent, or when it is not of that type (then `wrong`, for Int
  // "must be an integer", is reported at "<yaml_path>.<key>"). Bool and Int
  // write the value back into options() as "true"/"false" and in decimal
  // ("0x10" -> "16"), the spellings connectors read.
  virtual std::optional<bool> Bool(std::string_view key, std::string_view wrong) = 0;
  virtual std::optional<int64_t> Int(std::string_view key) = 0;
  virtual std::optional<double> Number(std::string_view key, std::string_view wrong) = 0;
  // Reports `message` at "<yaml_path>.<key>", or at yaml_path when `key` is "".
  virtual void Issue(std::string_view key, std::string message) = 0;
};

// What a kind accepts and checks as a source, or as a target.
struct ConnectorRole {
  // The keys a source or target of this kind accepts beyond those every one
  // has (sources: kind, key, region, references_from; targets: kind) and
  // `path` (file kinds) or `dsn` (server kinds). A key another kind accepts
  // is reported as "only for <those kinds> sources"; any other as unknown.
  std::vector<std::string> keys;
  // The kind's own checks, run after the shared ones when the kind is
  // known; empty for none. Reports through ConnectorSettings::Issue.
  std::function<void(ConnectorSettings&)> check;
};

// One connector kind, as the plan sees it.
struct ConnectorKind {
  std::string name;  // the plan's `kind:`, "csv"
  // True for a kind that connects to a server with `dsn` instead of reading
  // `path`; `dsn_help` then says what a `dsn` is when it is missing.
  bool server = false;
  std::string dsn_help;
  std::optional<ConnectorRole> source;  // set when the kind can be a source
  std::optional<ConnectorRole> target;  // set when the kind can be a target
};

// The kinds a plan may name. Immutable after construction; thread-safe.
class ConnectorCatalog {
 public:
  ConnectorCatalog() = default;
  // Kinds with the same name: the first wins.
  explicit ConnectorCatalog(std::vector<ConnectorKind> kinds);

  // The kind `name` when it can be a source (target), else nullptr.
  const ConnectorKind* FindSource(std::string_view name) const;
  const ConnectorKind* FindTarget(std::string_view name) const;
  // The names of the source (target) kinds, sorted.
  std::vector<std::string> SourceKinds() const;
  std::vector<std::string> TargetKinds() const;
  // The source (target) kinds, sorted by name.
  std::vector<const ConnectorKind*> Sources() const;
  std::vector<const ConnectorKind*> Targets() const;

 private:
  std::vector<ConnectorKind> kinds_;  // sorted by name
};

// The kinds of this build. Defined by common/connectors/registry.cc (target
// sluice_connectors), not by sluice_plan: see the top of this file.
const ConnectorCatalog& BuiltinConnectors();

}  // namespace sluice
