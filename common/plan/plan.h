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
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/core/value.h"
#include "common/plan/connector_catalog.h"

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
// (scalar YAML values as text); the ConnectorCatalog entry of `kind` says
// which are accepted and checks them (connector_catalog.h).
struct SourceSpec {
  std::string name;
  std::string kind;                            // a source kind of the ConnectorCatalog
  std::string path;                            // resolved against the plan's folder
  std::map<std::string, std::string> options;  // delimiter, table, key, ...
  std::string yaml_path;                       // "sources.crm"

  // Delta extraction (issue 18, docs/delta.md): `incremental: {column: C}`
  // names a source column that grows with every change to a row (a
  // timestamp, a date or an increasing number); "" reads the whole source
  // every run.
  std::string incremental_column;
  // Not from the plan: the extractor sets it from its lease. Only rows whose
  // incremental column is above this value (the high-water mark of the last
  // reconciled run) are read; nullopt reads every row.
  std::optional<std::string> extract_above;
  // Not from the plan: the extractor sets it for a key scan (issue 18,
  // KIND_SCAN_KEYS). A database source then reads only the key column (its
  // schema is that one field); other sources read their rows whole.
  bool keys_only = false;
  // Keys an earlier run loaded that the source no longer holds (issue 18):
  // kReport records the fate deleted_at_source, kPropagate also removes the
  // target row (or sets `soft_delete_field`), kIgnore does not look.
  enum class Deletions { kReport, kPropagate, kIgnore };
  Deletions deletions = Deletions::kReport;
  // propagate: the model field (an optional timestamp or date of every
  // entity the source maps onto) that the loader sets, when it finds the
  // row's record deleted, instead of deleting the row; "" deletes it.
  std::string soft_delete_field;

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

  // Transformations (docs/transformations.md), applied in this order:
  // read (from / concat), trim, split or extract, normalize, phone / email /
  // match_key, then empty values (enrich, default, null_policy), map, cast.
  std::vector<std::string> concat;  // source columns joined instead of `from`
  std::string separator = " ";      // of concat and split: separator
  std::string split;                // "", "name", "address" or "separator"
  std::string part;                 // first|last, street|postcode|city, or "0", "1", ...
  std::string extract;              // PCRE2 pattern; "" none
  int extract_group = -1;           // -1: 1 when the pattern has a group, else 0
  std::string normalize;            // "", "nfc" or "nfkc"
  bool match_key = false;
  bool email = false;
  bool phone = false;
  // phone: true (`phone: true` or `{strict: true}`): only numbers valid for
  // their region; false (`phone: {strict: false}`): a possible number (the
  // right length for its country) is kept in E.164 form with a warning.
  bool phone_strict = true;
  std::string region;            // phone: default region (ISO 3166 alpha-2)
  std::string region_from;       // phone: source column with the record's region
  std::string map_file;          // as written; its entries are merged into value_map
  std::string null_policy;       // "" or "null", "empty", "keep"
  std::string timezone;          // timestamps without %z; "" is UTC
  bool ambiguous_first = false;  // two formats disagree: take the first (else reject)
  std::string locale;            // decimal separators from ICU (as written)
  // What a failure of any of this field's transformations does (value map,
  // date and timestamp, decimal, phone, e-mail, split, extract, enrich,
  // casts): "reject" (the record), "review" (hold it for a steward) or
  // "null" (load it with the field NULL and a warning). Issue 14.
  std::string on_error = "reject";
  // A reference dataset filling empty values.
  struct Enrichment {
    std::string file;    // resolved path, CSV or SQLite
    std::string table;   // SQLite: the table; empty for CSV
    std::string key;     // dataset column looked up
    std::string by;      // source column whose value is looked up
    std::string column;  // dataset column that fills the field
  };
  std::optional<Enrichment> enrich;
  // Default region of `phone` from the source's `region` key.
  std::string source_region;

  // The source columns the value is read from: `concat`, else `from`; none
  // for a constant (`default` only).
  std::vector<std::string> ValueColumns() const {
    if (!concat.empty()) return concat;
    if (!from.empty()) return {from};
    return {};
  }
};

struct Mapping {
  std::string entity;
  std::string source;
  std::vector<FieldMapping> fields;
  std::string yaml_path;  // "mappings[0]"
};

// How one field of two records is compared (dedup.<entity>.comparisons).
// Levels, from the most alike: 0 "exact" (equal after folding), then one
// level per threshold, then "else"; a NULL on either side is level -1 and
// weighs nothing. Similarity comparators (jaro_winkler, levenshtein,
// damerau_levenshtein, token_set) take thresholds in descending order
// (level k: similarity >= thresholds[k-1]); difference comparators (date:
// days, number: absolute difference) in ascending order (level k:
// difference <= thresholds[k-1]); exact, soundex and phonetic take none.
struct DedupComparison {
  std::string name;        // the comparison's name in decisions; defaults to the field
  std::string field;       // model field
  std::string comparator;  // exact, jaro_winkler, levenshtein, damerau_levenshtein,
                           // token_set, soundex, phonetic (Double Metaphone), date,
                           // number
  std::vector<double> thresholds;
  std::vector<double> m, u;  // per level (thresholds + 2); empty: estimated
  std::string yaml_path;     // "dedup.hcp.comparisons[2]"
  // term_frequency: an exact agreement weighs log2(m / tf(value)) instead of
  // log2(m / u), tf being the value's share of the entity's records in the
  // run: a rare name counts more than a common one (docs/dedup.md).
  bool term_frequency = false;
  // name: the other name field, compared crosswise (first against last, last
  // against first) when the names do not agree straight; empty: not crosswise.
  std::string with;
  // identifier: a check-digit scheme ("luhn", "nir"); two different ids that
  // both pass it disagree decisively (level "different").
  std::string checksum;
  // Levels: exact, one per threshold (soundex, phonetic: same code), else;
  // name: exact, alias, part, one per threshold, crosswise, initial, else;
  // identifier: exact, 1 digit, transposed, 2 digits, [different], else;
  // phone: same number, else (docs/dedup.md).
  size_t LevelCount() const {
    if (comparator == "name") return thresholds.size() + 6;
    if (comparator == "identifier") return checksum.empty() ? 5 : 6;
    return thresholds.size() + (comparator == "soundex" || comparator == "phonetic" ? 3 : 2);
  }
};

// One part of a blocking key: a field, transformed.
struct BlockingPart {
  std::string field;
  std::string transform = "value";  // value (folded text), soundex, metaphone, prefix, year,
                                    // digits, phone (the national significant number)
  int length = 0;                   // prefix: leading characters kept
};

// Records whose blocking key is equal are compared. The parts must all be
// non-NULL, non-empty and not a placeholder for a record to be blocked.
struct BlockingRule {
  std::string name;
  std::vector<BlockingPart> parts;
  std::string yaml_path;
};

// One term of a deterministic rule: "national_id exact", "jw(last_name) >= 0.92",
// "date(birth_date) <= 31".
struct RuleTerm {
  std::string function;  // exact, jw, lev, dl, token_set, soundex, metaphone, date, number
  std::string field;
  std::string op;  // ">=", "<=", "" for exact/soundex
  double value = 0;
  bool negate = false;  // "not national_id exact"
};

// An ordered deterministic rule: the first whose terms all hold decides.
struct MatchRuleSpec {
  std::string name;
  std::vector<RuleTerm> terms;   // all must hold; a term on a NULL value fails
  std::string decide = "merge";  // merge | review | distinct
  std::string text;              // the rule as written
  std::string yaml_path;
};

// Deduplication of one entity across its sources. With only `key_fields`
// this is the exact-key matcher; `blocking` with `rules` and/or
// `comparisons` make it fuzzy (docs/dedup.md).
struct DedupSpec {
  std::string entity;
  std::vector<std::string> key_fields;       // records with equal, non-NULL keys merge
  std::vector<std::string> source_priority;  // first listed wins
  std::string most_recent_field;             // then the latest value of this field wins
  // Golden record: field -> survivorship strategy (survivor, non_null,
  // most_complete, most_frequent, longest, most_recent, source_priority;
  // deduper/survivorship.h). Unlisted fields use `default_field_rule`.
  std::map<std::string, std::string> field_rules;
  std::string default_field_rule = "survivor";

  std::vector<BlockingRule> blocking;
  std::vector<std::string> placeholders;  // values that never block: "UNKNOWN", "0000000"
  int64_t max_block_size = 1000;          // a larger block is reported and not compared
  std::vector<MatchRuleSpec> rules;
  std::vector<DedupComparison> comparisons;  // Fellegi-Sunter; empty: rules only
  double merge_threshold = 0;                // total match weight (log2) at or above: merge
  double review_threshold = 0;               // at or above (and below merge): review
  double weak_link_threshold = 0;   // a merge edge below this is weak (0 = merge_threshold)
  int64_t em_iterations = 25;       // EM iterations for m when not given
  int64_t u_sample_pairs = 200000;  // random pairs for u when not given
  double prior_match = 0;           // initial match proportion for EM; 0: from the data
  // estimation.on_degenerate: "halt" (default) stops the entity before it
  // loads when the m/u estimate cannot be trusted; "warn" only notes it.
  bool halt_on_degenerate_estimate = true;
  int64_t max_cluster_size = 50;  // a larger cluster goes to review whole
  // guardrails.on_conflict: a cluster whose links join two records a
  // decisive disagreement keeps apart is split at its weakest link ("split",
  // the default: false) or held for review whole ("review": true).
  bool review_on_conflict = false;
  // aliases: FILE, groups of given names (deduper/data/aliases.csv's
  // format) added to the shipped table for the name comparator. The path
  // as resolved, and the file's text, read (and its lines checked) when the
  // plan is parsed; both empty without the key.
  std::string aliases_path;
  std::string aliases_text;
  std::string yaml_path;  // "dedup.hcp"
  // True when the plan asks for more than the exact key.
  bool fuzzy() const { return !blocking.empty(); }
};

// One validation rule (docs/validation.md). Kinds: required, type,
// max_length, regex, picklist, range (numeric), date_range, unique (within
// the entity, on `fields`), expression (cross-field, `expression`), and
// reference (parent existence, loader side).
struct RuleSpec {
  std::string name;
  std::string kind;
  std::string field;               // the rule's field; unique: the first of `fields`
  std::string severity = "error";  // error | warning | review
  std::optional<std::string> min;  // range/date_range bounds, as text
  std::optional<std::string> max;
  std::string pattern;                  // regex
  std::vector<std::string> values;      // picklist; empty: the model enum's values
  int64_t max_length = 0;               // max_length
  FieldType type = FieldType::kString;  // type
  std::vector<std::string> fields;      // unique: the fields whose values together are unique
  std::string expression;               // expression: the condition every record must meet
  std::string message;                  // expression: optional reason shown on failure
  std::string yaml_path;                // "validation.hcp[2]"
};

// Per-entity thresholds of `validation.<entity>.halt`: when a wave crosses
// one, the run halts before any record of the entity in that wave is loaded.
struct ValidationHalt {
  std::optional<double> reject_rate;  // rejected / extracted, 0..1
  std::optional<double> review_rate;  // held for review / extracted, 0..1
  std::string yaml_path;              // "validation.hcp.halt"
  bool any() const { return reject_rate.has_value() || review_rate.has_value(); }
};

struct TargetSpec {
  std::string kind;  // a target kind of the ConnectorCatalog
  std::string path;  // file kinds; "" for server kinds
  std::map<std::string, std::string> options;
  std::string yaml_path = "target";
};

struct WaveSpec {
  std::string name;
  // In load order: parents before the entities that reference them (the
  // plan's order where the references leave a choice).
  std::vector<std::string> entities;
  // The same entities in dependency levels: the entities of one group do
  // not reference each other and may load in parallel; a group loads after
  // every group before it.
  std::vector<std::vector<std::string>> groups;
  // Per entity, the entities of this wave it references (itself excluded):
  // the coordinator starts an entity once all of these have loaded.
  std::map<std::string, std::vector<std::string>> parents;
};

// A production window: `sluice run` starts only inside it, and a run still
// going when it closes pauses at a batch boundary (resumed in the next one).
struct WindowSpec {
  int start_minute = 0;              // minutes after local midnight ("03:00" -> 180)
  int end_minute = 0;                // smaller than start_minute: the window spans midnight
  std::string start_text, end_text;  // as written: "03:00"
  std::string tz = "UTC";            // IANA zone of the times
};

// What a run does to the model fields marked `pii: true` (issue 19,
// docs/privacy.md): `pii: {mode, key, shapes}` at the top of the plan or in
// an environment.
enum class PiiMode { kNone, kPseudonymise, kDrop };

// The form a pseudonym takes (transformer/pseudonym.h): a name from a list,
// an undeliverable e-mail, a phone number with the same country code and
// length, the same letters-and-digits pattern, a date moved within its year,
// a value of the enum, a bool drawn per record.
enum class PiiShape { kName, kEmail, kPhone, kIdentifier, kDate, kEnum, kBool };

struct PiiSpec {
  PiiMode mode = PiiMode::kNone;
  bool set = false;  // the plan (or its environment) says `pii:`
  // pseudonymise: the resolved key (a secret: never printed or stored).
  std::string key;
  // "entity.field" -> shape, for the fields whose shape is not the one
  // PiiShapeOf infers.
  std::map<std::string, PiiShape> shapes;
  bool active() const { return mode != PiiMode::kNone; }
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
  std::map<std::string, DedupSpec> dedup;                  // by entity
  std::map<std::string, std::vector<RuleSpec>> rules;      // by entity
  std::map<std::string, ValidationHalt> validation_halts;  // by entity (issue 6)
  TargetSpec target;
  std::vector<WaveSpec> waves;
  int64_t batch_size = 4096;
  // Dedup shards (processes) of a run (docs/dedup.md#scale-out), 1 to 64;
  // `sluice run --dedup-shards N` overrides it.
  int64_t dedup_shards = 1;
  std::string state_dir;  // audit store, shard logs, reports
  // The environment the plan was resolved for ("" = none chosen), the names
  // the plan defines, and its production window (from the top level or the
  // chosen environment).
  std::string environment;
  std::vector<std::string> environment_names;
  std::optional<WindowSpec> window;
  // The values of the ${env:...} and ${file:...} secrets resolved into this
  // plan, so that the coordinator can scrub them from anything it writes.
  // Never print them.
  std::vector<std::string> secret_values;
  PiiSpec pii;
  // Issue 17: per entity, the fields the reconciler compares segment by
  // segment (record counts and decimal sums per value, source side against
  // target side). An entity not named here is segmented by its enum fields.
  std::map<std::string, std::vector<std::string>> segments;

  const SourceSpec* FindSource(const std::string& name) const;
  const Mapping* FindMapping(const std::string& entity, const std::string& source) const;
  // Mappings of an entity, in plan order.
  std::vector<const Mapping*> MappingsFor(const std::string& entity) const;
};

// The segment fields of `entity` (Plan::segments, else its enum fields).
std::vector<std::string> SegmentFields(const Plan& plan, const Entity& entity);

// Parses a plan; `issues` receives every problem found. The result is usable
// only when `issues` stays empty. Sources and the target may be of the kinds
// in `connectors` (connector_catalog.h says why it is passed in).
//
// `environment` names an entry of the plan's `environments:`, whose settings
// override the plan's (mappings merge key by key, lists and scalars are
// replaced); "" chooses none. Secrets `${env:NAME}` and `${file:PATH}` in the
// settings of sources and the target are resolved after the overlay (and
// registered with common/core/redact.h); anywhere else they are an issue, the
// value would be stored or printed in clear. `yaml_text` keeps them
// unresolved (it is the text shipped to workers: the plan with the
// environment applied, which they parse with environment "").
Plan ParsePlan(const std::string& yaml_text, const std::string& base_dir,
               std::vector<PlanIssue>* issues, const std::string& environment = "",
               const ConnectorCatalog& connectors = BuiltinConnectors());
// Reads and parses a plan file; fails with every issue, one per line.
Result<Plan> LoadPlan(const std::string& path, const std::string& environment = "",
                      const ConnectorCatalog& connectors = BuiltinConnectors());

// ParsePlan for `sluice plan check` (issue 3): a secret that cannot be
// resolved here is recorded in `secret_notes` (at its YAML path) and left
// unresolved instead of being an issue, and problems at that path are not
// reported. Mistakes in a value the environment sets are reported under
// `environments.<name>.` by ParsePlan as by this.
Plan ParsePlanForCheck(const std::string& yaml_text, const std::string& base_dir,
                       std::vector<PlanIssue>* issues, std::vector<PlanIssue>* secret_notes,
                       const std::string& environment = "",
                       const ConnectorCatalog& connectors = BuiltinConnectors());

// Replaces every secret reference `${env:NAME}` / `${file:PATH}` in `text`
// (files relative to `base_dir`, one trailing newline dropped). Errors name
// the variable or file, never a value. Resolved values are appended to
// `secrets` when given.
Result<std::string> ResolveSecrets(const std::string& text, const std::string& base_dir,
                                   std::vector<std::string>* secrets = nullptr);

// `text` with every occurrence of each of `secrets`, and of every secret this
// process resolved (common/core/redact.h), replaced by "***".
std::string RedactSecrets(std::string text, const std::vector<std::string>& secrets);
// "none", "pseudonymise", "drop"; "name", "email", ...
const char* PiiModeName(PiiMode mode);
const char* PiiShapeName(PiiShape shape);
// The shape of the pseudonyms of `field` (marked pii) of `entity`: the
// plan's `pii.shapes` entry, else by its type (date and timestamp: date,
// enum, bool, int and decimal: identifier) and for text by its mappings
// (`email: true`, `phone: true`, `split: name`) or its name ("email",
// "phone"/"mobile"/"fax", "name"), else identifier.
PiiShape PiiShapeOf(const Plan& plan, const Entity& entity, const ModelField& field);

// Parses a model file or inline YAML node text.
Model ParseModel(const std::string& yaml_text, std::vector<PlanIssue>* issues);

// Parses "string", "int", "decimal(12,2)", ... into `field`.
Status ParseFieldType(const std::string& text, ModelField* field);

// True when `name` can name an entity, field, source or schema: letters,
// digits and '_', not starting with a digit (they become table and column
// names).
bool IsPlainName(std::string_view name);

}  // namespace sluice
