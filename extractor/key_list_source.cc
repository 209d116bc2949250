#include "extractor/key_list_source.h"

#include "common/connectors/postgres/postgres_source.h"
#include "common/connectors/sqlite/sqlite_source.h"

namespace sluice {

Result<std::unique_ptr<Source>> OpenSourceByKeys(const SourceSpec& spec,
                                                 const std::vector<std::string>& keys) {
  Result<std::unique_ptr<Source>> inner = spec.kind == "sqlite" ? OpenSqliteSourceByKeys(spec, keys)
                                          : spec.kind == "postgres"
                                              ? OpenPostgresSourceByKeys(spec, keys)
                                              : OpenSource(spec);
  if (!inner.ok()) return inner.status();
  return std::unique_ptr<Source>(std::make_unique<KeyListSource>(std::move(*inner), keys));
}

Result<bool> KeyListSource::Next(size_t max_rows, RecordBatch* out,
                                 std::vector<v1::Fate>* rejects) {
  uint64_t skipped = 0;
  bool any = false;
  while (out->records.size() < max_rows) {
    RecordBatch part;
    std::vector<v1::Fate> part_rejects;
    SLUICE_ASSIGN_OR_RETURN(bool got,
                            inner_->Next(max_rows - out->records.size(), &part, &part_rejects));
    if (!got) break;
    if (!any) {
      out->schema = part.schema;
      out->range = part.range;
      any = true;
    }
    out->range.set_end_offset(part.range.end_offset());
    for (Record& r : part.records) {
      if (keys_.count(r.key)) {
        out->records.push_back(std::move(r));
      } else {
        ++skipped;
      }
    }
    for (v1::Fate& f : part_rejects) {
      if (keys_.count(f.key())) {
        rejects->push_back(std::move(f));
      } else {
        ++skipped;
      }
    }
  }
  if (!any) return false;
  out->range.set_skipped(skipped);
  return true;
}

}  // namespace sluice
