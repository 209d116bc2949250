// Delta extraction of one source (issue 18, docs/delta.md): a Source that
// passes on only the rows whose incremental column is above the mark, and
// notes in each batch's range the mark it read under, the highest value of
// the column among its rows and how many rows it left out.
#pragma once

#include <memory>
#include <string>

#include "common/connectors/connector.h"

namespace sluice {

class DeltaSource : public Source {
 public:
  // Wraps `inner`, a source of `spec` opened with `spec.extract_above` (a
  // database source then reads only the rows above the mark itself; a file
  // source reads every row and this leaves the others out). Fails at
  // "<source>.incremental.column" when the source has no such column.
  static Result<std::unique_ptr<Source>> Wrap(const SourceSpec& spec,
                                              std::unique_ptr<Source> inner);

  const Schema& schema() const override { return inner_->schema(); }
  // Reads until `max_rows` rows are kept or the source ends: a batch holds
  // the rows above the mark of one stretch of the source, its range covers
  // the whole stretch. A batch may hold no record when every row of the
  // source's last stretch was left out: its range then counts them.
  Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) override;
  Status Seek(const v1::BatchRange& range) override;

 private:
  DeltaSource(std::unique_ptr<Source> inner, int column, std::optional<std::string> mark)
      : inner_(std::move(inner)), column_(column), mark_(std::move(mark)) {}
  // Moves the records of `part` above the mark to `out`; returns how many
  // were left out, and raises `high`.
  uint64_t Keep(RecordBatch* part, RecordBatch* out, std::string* high) const;

  std::unique_ptr<Source> inner_;
  int column_;                       // of the incremental column in the raw schema
  std::optional<std::string> mark_;  // nullopt: every row is kept
};

}  // namespace sluice
