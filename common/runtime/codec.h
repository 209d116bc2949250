// The wire codec, in one place: RecordBatch <-> sluice.v1.RecordBatch.
#pragma once

#include <string>

#include "common/core/record.h"
#include "common/core/status.h"
#include "sluice/v1/batch.pb.h"

namespace sluice {

v1::FieldType ToProto(FieldType type);
FieldType FromProto(v1::FieldType type);

void EncodeSchema(const Schema& schema, v1::Schema* out);
Result<Schema> DecodeSchema(const v1::Schema& in);

// Replaces the contents of `out` by `batch`, including its key checksum.
// Every record must hold one value per schema field. Equal batches give equal
// messages (source names are listed in order of first use).
void EncodeBatch(const RecordBatch& batch, v1::RecordBatch* out);
// Rebuilds a batch. Any inconsistency (ragged columns or record identity, bad
// string or key offsets, a source index or null mask out of range, unknown
// types, a key checksum that does not match the keys) is refused with
// Status::Corruption: `in` may come off the wire or a disk, never trust it.
Result<RecordBatch> DecodeBatch(const v1::RecordBatch& in);

}  // namespace sluice
