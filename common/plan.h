// The migration plan and the canonical model, parsed once here.
//
// A plan is YAML: the canonical model (inline or a path), the sources, one
// mapping per (entity, source), dedup and validation settings per entity,
// the target and the ordered waves. Every problem found while parsing is
// reported with the YAML path of the mistake ("mappings[1].fields.dob.format")
// and parsing goes on, so that one pass lists every problem.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace sluice {

// One problem in a plan, located by its YAML path.
struct PlanIssue {
  std::string path;     // "sources.crm.delimiter"
  std::string message;  // "must be a single character"
  std::string ToString() const { return path + ": " + message; }
};

struct ModelField {
  std::string name;
  FieldType type = FieldType::kString;
  int precision = 0;  // decimal(p,s)
  int scale = 0;
  bool required = false;
  std::optional<int64_t> max_length;
  bool pii = false;
  std::string owner;
  std::string description;
  std::vector<std::string> enum_values;  // enum only
  std::string references;                // reference only: the parent entity
};

struct Entity {
  std::string name;
  std::string description;
  std::vector<ModelField> fields;
  // The entity's canonical schema, in field order.
  Schema ToSchema() const;
  const ModelField* Find(const std::string& field) const;
};

struct Model {
  std::vector<Entity> entities;
  std::string content_hash;  // hex xxh64 of the model's YAML text
  const Entity* Find(const std::string& entity) const;
};

// A source system export. Connector-specific settings stay in `options`
// (scalar YAML values as text); the connector named by `kind` validates them.
struct SourceSpec {
  std::string name;
  std::string kind;                            // csv, sqlite, ...
  std::string path;                            // resolved against the plan's folder
  std::map<std::string, std::string> options;  // delimiter, table, key, ...
  std::string yaml_path;                       // "sources.crm"
  // The option's value, or `fallback`.
  std::string Option(const std::string& name, const std::string& fallback = "") const;
};

// How one model field is filled from one source.
struct FieldMapping {
  std::string target;                // model field name
  std::string from;                  // source column; empty: default only
  bool trim = true;                  // strip leading/trailing whitespace
  std::vector<std::string> formats;  // date/timestamp formats, tried in order
  bool has_value_map = false;
  std::map<std::string, std::string> value_map;  // source value -> model value
  std::optional<std::string> default_value;      // used when the source value is NULL/empty
  std::vector<std::string> true_values{"true", "1", "yes", "y", "t"};
  std::vector<std::string> false_values{"false", "0", "no", "n", "f"};
  char decimal_point = '.';
  char group_separator = '\0';
  std::string yaml_path;  // "mappings[0].fields.birth_date"
};

struct Mapping {
  std::string entity;
  std::string source;
  std::vector<FieldMapping> fields;
  std::string yaml_path;  // "mappings[0]"
};

// Exact-key deduplication of one entity across its sources.
struct DedupSpec {
  std::string entity;
  std::vector<std::string> key_fields;       // records with equal, non-NULL keys merge
  std::vector<std::string> source_priority;  // first listed wins
  std::string most_recent_field;             // then the latest value of this field wins
  std::string yaml_path;                     // "dedup.hcp"
};

// One validation rule. Kinds: required, type, max_length, regex, picklist,
// range (numeric), date_range.
struct RuleSpec {
  std::string name;
  std::string kind;
  std::string field;
  std::string severity = "error";  // error | warning | review
  std::optional<std::string> min;  // range/date_range bounds, as text
  std::optional<std::string> max;
  std::string pattern;                  // regex
  std::vector<std::string> values;      // picklist; empty: the model enum's values
  int64_t max_length = 0;               // max_length
  FieldType type = FieldType::kString;  // type
  std::string yaml_path;                // "validation.hcp[2]"
};

struct TargetSpec {
  std::string kind = "sqlite";
  std::string path;
  std::map<std::string, std::string> options;
  std::string yaml_path = "target";
};

struct WaveSpec {
  std::string name;
  std::vector<std::string> entities;
};

struct Plan {
  std::string name;
  std::string path;       // the plan file
  std::string base_dir;   // folder relative paths resolve against
  std::string yaml_text;  // the plan as read, for shipping to workers
  std::string content_hash;
  Model model;
  std::vector<SourceSpec> sources;
  std::vector<Mapping> mappings;
  std::map<std::string, DedupSpec> dedup;              // by entity
  std::map<std::string, std::vector<RuleSpec>> rules;  // by entity
  TargetSpec target;
  std::vector<WaveSpec> waves;
  int64_t batch_size = 4096;
  std::string state_dir;  // audit store, shard logs, reports

  const SourceSpec* FindSource(const std::string& name) const;
  const Mapping* FindMapping(const std::string& entity, const std::string& source) const;
  // Mappings of an entity, in plan order.
  std::vector<const Mapping*> MappingsFor(const std::string& entity) const;
};

// Parses a plan; `issues` receives every problem found. The result is usable
// only when `issues` stays empty.
Plan ParsePlan(const std::string& yaml_text, const std::string& base_dir,
               std::vector<PlanIssue>* issues);
// Reads and parses a plan file; fails with every issue, one per line.
Result<Plan> LoadPlan(const std::string& path);
// Parses a model file or inline YAML node text.
Model ParseModel(const std::string& yaml_text, std::vector<PlanIssue>* issues);

// Parses "string", "int", "decimal(12,2)", ... into `field`.
Status ParseFieldType(const std::string& text, ModelField* field);

}  // namespace sluice
