// The wire codec, in one place: RecordBatch <-> sluice.v1.RecordBatch.
#pragma once

#include <google/protobuf/message.h>

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
// types, a key checksum that does not match the keys) and a batch past the
// limits of common/core/limits.h (records, columns, values) is refused with
// Status::Corruption before anything is allocated: `in` may come off the
// wire or a disk, never trust it.
Result<RecordBatch> DecodeBatch(const v1::RecordBatch& in);

// Makes every `string` field of `message` (nested messages, repeated fields
// and map keys and values included) valid UTF-8, replacing each invalid byte
// by U+FFFD, and returns how many fields it changed. protobuf refuses to
// parse a message whose string field is not valid UTF-8: one raw byte from a
// source would make the whole message unreadable. `bytes` fields are left
// alone. Senders call it before serializing.
size_t MakeValidUtf8(google::protobuf::Message* message);
// True when a `string` field of `message` (at any depth) is not valid UTF-8.
bool HasInvalidUtf8(const google::protobuf::Message& message);
// `message` serialized for the wire: as it is when every string field is
// valid UTF-8 (checked on the serialized bytes, at a fraction of the cost of
// serializing), else a copy made valid by MakeValidUtf8.
std::string SerializeForWire(const google::protobuf::Message& message);

}  // namespace sluice
