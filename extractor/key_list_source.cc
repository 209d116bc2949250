#include "extractor/key_list_source.h"

#include "common/connectors/postgres/postgres_source.h"
#include "common/connectors/sqlite/sqlite_source.h"
#include "extractor/stretch_read.h"

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
  return ReadStretch(*inner_, max_rows, out, rejects,
                     [&](RecordBatch& part, std::vector<v1::Fate>& part_rejects) {
                       uint64_t skipped = 0;
                       for (Record& r : part.records) {
                         if (!keys_.count(r.key)) {
                           ++skipped;
                           continue;
                         }
                         out->records.push_back(std::move(r));
                       }
                       for (v1::Fate& f : part_rejects) {
                         if (!keys_.count(f.key())) {
                           ++skipped;
                           continue;
                         }
                         rejects->push_back(std::move(f));
                       }
                       return skipped;
                     });
}

}  // namespace sluice
