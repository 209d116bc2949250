// Control messages from an unauthenticated peer: any bytes as an Envelope
// (and the lineage blob a transformer's commit carries). Then the same bytes
// as the text fields of a message a worker sends: whatever raw bytes a
// source put there, SerializeForWire makes it a message that parses back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/audit/lineage.h"
#include "common/runtime/codec.h"
#include "fuzz/fuzz_input.h"
#include "sluice/v1/control.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  v1::Envelope env;
  if (env.ParseFromArray(data, static_cast<int>(size)) && env.has_commit()) {
    (void)DecodeLineage(env.commit().lineage());
  }
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  v1::Envelope out;
  v1::Commit* commit = out.mutable_commit();
  commit->set_stage(bytes.substr(0, 16));
  commit->add_out_keys(bytes);
  v1::Fate* fate = commit->add_fates();
  fate->set_key(bytes.substr(size / 2));
  fate->set_value(bytes);
  fate->set_reason("invalid JSON: " + bytes.substr(0, 40));
  (*commit->mutable_decimal_sums())[bytes.substr(0, 8)] = 1;
  const std::string body = SerializeForWire(out);
  v1::Envelope back;
  fuzz::Check(back.ParseFromString(body), "a sent message does not parse");
  fuzz::Check(!HasInvalidUtf8(back), "a sent message holds invalid utf-8");
  return 0;
}
