// The PII mask of one mapping (issue 19, docs/privacy.md): under the plan's
// `pii.mode`, every model field marked `pii: true` is replaced, as the
// transformer maps it, by its pseudonym (transformer/pseudonym.h) or by
// NULL (`drop`), and nothing the transformer writes about the record (fates,
// lineage, review items) keeps a real value: this is the earliest point
// where a source column is known to be PII, so no stage after it (dedup,
// validation, the loader, the audit store, reports) ever sees one.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "sluice/v1/control.pb.h"
#include "transformer/pseudonym.h"

namespace sluice {

// Immutable after Create; thread-safe.
class PiiMask {
 public:
  // The mask of `mapping` (records of `source_schema` onto `entity`), or
  // nullptr when the plan's mode is none or the entity has no pii field.
  // InvalidArgument when pseudonymising without a usable key (`pii.key`).
  static Result<std::unique_ptr<PiiMask>> Create(const Plan& plan, const Entity& entity,
                                                 const Mapping& mapping,
                                                 const Schema& source_schema);

  // True when field `f` of the entity is masked.
  bool Masks(size_t f) const { return f < fields_.size() && fields_[f].pii; }

  // The masked form of a text of field `f` (a lineage value, a failed
  // value): its pseudonym, nullopt under drop (and for nullopt).
  // `src` is the record it belongs to (a bool is drawn per record).
  std::optional<std::string> MaskText(size_t f, const std::optional<std::string>& text,
                                      const Record& src) const;

  // Replaces the pii fields of `mapped` (the entity's schema, mapped from
  // `src`) by their pseudonyms (NULL under drop).
  void MaskRecord(const Record& src, Record* mapped) const;

  // Fates and review items from index `first_fate` / `first_item` on, about
  // `src` (`mapped`: its mapped values before MaskRecord, null when it did
  // not pass): the value of a pii field masked, and every real text of a
  // pii column or field in values, reasons and suggestions replaced by its
  // masked form; review items carry MaskSource(src) as their record.
  void Scrub(const Record& src, const Record* mapped, std::vector<v1::Fate>* fates,
             size_t first_fate, std::vector<v1::ReviewItem>* items, size_t first_item) const;

  // `src` with each source column that fills a pii field masked as that
  // field (the first one that reads it).
  Record MaskSource(const Record& src) const;

 private:
  struct Field {
    bool pii = false;
    PiiShape shape = PiiShape::kIdentifier;
    FieldSpec spec;
    std::vector<std::string> enum_values;
    std::optional<int64_t> max_length;
  };
  struct PiiColumn {
    int index = -1;
    size_t field = 0;  // the pii field that reads it
  };

  PiiMask(PiiMode mode, std::optional<Pseudonymiser> pseudonymiser, std::string entity,
          std::vector<Field> fields, Schema source_schema, std::vector<PiiColumn> columns)
      : mode_(mode),
        pseudonymiser_(std::move(pseudonymiser)),
        entity_(std::move(entity)),
        fields_(std::move(fields)),
        source_schema_(std::move(source_schema)),
        columns_(std::move(columns)) {}

  // The pseudonym of `text` in field `f`'s shape.
  std::string Pseudonym(size_t f, std::string_view text, const Record& src) const;
  // Pairs (real text, masked text) of `src` and `mapped`, longest first.
  std::vector<std::pair<std::string, std::string>> RealTexts(const Record& src,
                                                             const Record* mapped) const;
  // The text of column `c` of `src`, trimmed; nullopt when NULL.
  std::optional<std::string> ColumnText(const Record& src, int c) const;

  PiiMode mode_;
  std::optional<Pseudonymiser> pseudonymiser_;  // pseudonymise only
  std::string entity_;
  std::vector<Field> fields_;  // one per entity field
  Schema source_schema_;
  std::vector<PiiColumn> columns_;
};

}  // namespace sluice
