// A data message off the wire (a record batch from an unauthenticated
// peer): DecodeBatch refuses it or returns a batch that encodes back to a
// message decoding to the same batch.
#include <cstddef>
#include <cstdint>

#include "common/runtime/codec.h"
#include "fuzz/fuzz_input.h"
#include "sluice/v1/control.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  v1::DataMessage msg;
  if (!msg.ParseFromArray(data, static_cast<int>(size)) || !msg.has_batch()) return 0;
  Result<RecordBatch> batch = DecodeBatch(msg.batch());
  if (!batch.ok()) return 0;
  v1::RecordBatch again;
  EncodeBatch(*batch, &again);
  Result<RecordBatch> back = DecodeBatch(again);
  fuzz::Check(back.ok(), "a decoded batch does not decode after encoding");
  fuzz::Check(back->records.size() == batch->records.size(), "record count changed");
  for (size_t i = 0; i < back->records.size(); ++i) {
    const Record& a = batch->records[i];
    const Record& b = back->records[i];
    fuzz::Check(a.key == b.key && a.source == b.source && a.values == b.values &&
                    a.content_hash == b.content_hash && a.line == b.line,
                "record changed by a round trip");
  }
  return 0;
}
