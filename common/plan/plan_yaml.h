// Reading YAML nodes with every mistake recorded as a PlanIssue at its YAML
// path. Shared by plan.cc, plan_entities.cc and model.cc; not part of sluice's
// interface.
//
// The readers never throw: they check a node's shape before touching it, so a
// wrong type is an issue ("batch_size: must be an integer") and parsing goes
// on. An absent key and a key with an empty (null) value read the same.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/plan/plan.h"

namespace sluice::plan_yaml {

// "parent.key", or "key" at the root.
std::string Child(const std::string& path, std::string_view key);
// "path[3]".
std::string Item(const std::string& path, size_t index);

// Appends the issue {path, message}.
void AddIssue(std::vector<PlanIssue>* issues, std::string path, std::string message);

// True when `node` is a mapping; otherwise reports "must be a mapping".
bool ExpectMap(const YAML::Node& node, const std::string& path, std::vector<PlanIssue>* issues);
// True when `node` is a sequence; otherwise reports "must be a list".
bool ExpectList(const YAML::Node& node, const std::string& path, std::vector<PlanIssue>* issues);

// Reports, at `path`, every key of the mapping `node` not in `known`, every
// duplicate key and every key that is not text.
void CheckKeys(const YAML::Node& node, const std::string& path,
               std::span<const std::string_view> known, std::vector<PlanIssue>* issues);
inline void CheckKeys(const YAML::Node& node, const std::string& path,
                      std::initializer_list<std::string_view> known,
                      std::vector<PlanIssue>* issues) {
  CheckKeys(node, path, std::span(known.begin(), known.size()), issues);
}

// The value under `key` of the mapping `node`, or an undefined node when the
// key is absent or its value is null.
YAML::Node Get(const YAML::Node& node, std::string_view key);

enum class Need { kOptional, kRequired };

// Scalar readers: nullopt when absent (reporting "missing" if required) or
// when the value has the wrong type (reporting it).
std::optional<std::string> ReadText(const YAML::Node& map, std::string_view key,
                                    const std::string& path, Need need,
                                    std::vector<PlanIssue>* issues);
std::optional<bool> ReadBool(const YAML::Node& map, std::string_view key, const std::string& path,
                             std::vector<PlanIssue>* issues);
std::optional<int64_t> ReadInt(const YAML::Node& map, std::string_view key, const std::string& path,
                               Need need, std::vector<PlanIssue>* issues);
// A single character ("," or "\t"); "" gives '\0' when `allow_empty`.
std::optional<char> ReadChar(const YAML::Node& map, std::string_view key, const std::string& path,
                             bool allow_empty, std::vector<PlanIssue>* issues);

// A list of text values. When `allow_scalar`, a lone scalar reads as a list
// of one. Bad items are reported at "path.key[i]" and skipped.
std::optional<std::vector<std::string>> ReadTextList(const YAML::Node& map, std::string_view key,
                                                     const std::string& path, Need need,
                                                     bool allow_scalar,
                                                     std::vector<PlanIssue>* issues);

// A mapping of text to text, in document order. Bad entries are reported at
// "path.key.entry" and skipped.
std::optional<std::vector<std::pair<std::string, std::string>>> ReadTextMap(
    const YAML::Node& map, std::string_view key, const std::string& path,
    std::vector<PlanIssue>* issues);

// Lower-case hex of a 64-bit hash, always 16 digits.
std::string Hex64(uint64_t h);

// IsPlainName (plan.h), as the sections call it.
using ::sluice::IsPlainName;

// `path` resolved against the plan's folder `base_dir` (kept when absolute).
std::string ResolvePath(const std::string& base_dir, const std::string& path);

// Parses the model mapping `node` ({entities: ...}), with paths under `path`
// ("" for a model file, "model" inline). Fields whose type could not be read
// are kept as strings, so that references to them still resolve, and their
// "entity.field" names go to `untyped` so that type-dependent checks skip
// them. Does not set `content_hash`.
Model ParseModelNode(const YAML::Node& node, const std::string& path,
                     std::set<std::string>* untyped, std::vector<PlanIssue>* issues);

// The issue for a YAML exception, at `path` with its line and column.
PlanIssue YamlErrorIssue(const YAML::Exception& e, const std::string& path);

// Loads the first document of `text` into `*root` when it is valid YAML
// within the limits of common/core/limits.h (bytes, nesting depth, nodes
// with aliases counted as copies) and has no alias inside the node it names.
// Otherwise returns false with the issue at `path` (line and column in the
// message) and builds no node. Never throws.
bool LoadYaml(const std::string& text, const std::string& path, YAML::Node* root,
              std::vector<PlanIssue>* issues);

// What the sections of a plan share while they are parsed.
struct PlanContext {
  Plan* plan = nullptr;
  std::vector<PlanIssue>* issues = nullptr;
  // False when the model could not be read at all: names of entities and
  // fields are then not checked, to avoid one issue per mention.
  bool model_loaded = false;
  // Likewise for source names when `sources` is missing or not a mapping.
  bool sources_loaded = false;
  std::set<std::string> untyped;  // "entity.field" of fields with a bad type
  // Issue 3: paths of the merged plan whose value the chosen environment
  // set (ApplyEnvironment): mistakes under them are reported under
  // `environments.<name>.`.
  std::set<std::string> overridden;
  // Issue 3, `plan check` without --env: a secret that cannot be resolved
  // is a note here (at its path), not an issue, and stays unresolved.
  std::vector<PlanIssue>* secret_notes = nullptr;

  // The named entity; nullptr (reporting "unknown entity" at `path` when the
  // model was loaded) when there is none.
  const Entity* FindEntity(const std::string& name, const std::string& path) const;
  // The named source; nullptr (reporting "unknown source" at `path` when the
  // sources were loaded) when there is none.
  const SourceSpec* FindSource(const std::string& name, const std::string& path) const;
  // The named field of `entity` (nullptr: no check); reports at `path`.
  const ModelField* FindField(const Entity* entity, const std::string& name,
                              const std::string& path) const;
  // The field's type was read, so type-dependent checks apply.
  bool Typed(const Entity& entity, const ModelField& field) const {
    return !untyped.count(entity.name + "." + field.name);
  }
};

// The sources and the target (plan_connectors.cc): what every one shares,
// and what their kind adds, from `connectors`.
void ParseSources(const YAML::Node& root, const std::string& base_dir,
                  const ConnectorCatalog& connectors, PlanContext* ctx);
void ParseTarget(const YAML::Node& root, const std::string& base_dir,
                 const ConnectorCatalog& connectors, PlanContext* ctx);

// Delta runs of one source (plan_delta.cc, issue 18): `incremental` and
// `deletions` of the source mapping `node` into `spec`.
void ParseSourceDelta(const YAML::Node& node, SourceSpec* spec, std::vector<PlanIssue>* issues);
// After the mappings: a soft-delete field is a timestamp or date field of
// every entity its source maps onto.
void CheckSoftDeletes(PlanContext* ctx);

// The per-entity sections (plan_entities.cc; dedup in plan_dedup.cc). They run after the model and
// the sources are parsed.
void ParseMappings(const YAML::Node& root, PlanContext* ctx);
void ParseDedup(const YAML::Node& root, PlanContext* ctx);
void ParseValidation(const YAML::Node& root, PlanContext* ctx);
// The waves (plan_waves.cc), after the mappings.
void ParseWaves(const YAML::Node& root, PlanContext* ctx);
// `pii:` (plan_pii.cc), after the mappings: the mode, its key and shapes,
// and the checks that no PII value goes around the mask.
void ParsePii(const YAML::Node& root, PlanContext* ctx);
// `segments:` (plan_segments.cc, issue 17), after the model: entity ->
// fields, each a field of the entity.
void ParseSegments(const YAML::Node& root, PlanContext* ctx);

}  // namespace sluice::plan_yaml
