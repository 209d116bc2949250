// The wire codec, in one place: RecordBatch <-> sluice.v1.RecordBatch.
#pragma once

#include <string>

#include "common/record.h"
#include "common/status.h"
#include "sluice/v1/batch.pb.h"

namespace sluice {

v1::FieldType ToProto(FieldType type);
FieldType FromProto(v1::FieldType type);

void EncodeSchema(const Schema& schema, v1::Schema* out);
Result<Schema> DecodeSchema(const v1::Schema& in);

// Fills `out` from `batch`, including its key checksum.
void EncodeBatch(const RecordBatch& batch, v1::RecordBatch* out);
// Rebuilds a batch; refuses ragged columns, unknown types and a key checksum
// that does not match the keys (corruption in transit).
Result<RecordBatch> DecodeBatch(const v1::RecordBatch& in);

}  // namespace sluice
