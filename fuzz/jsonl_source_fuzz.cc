// JSON Lines source: any bytes. The first byte chooses the batch size; the
// key is "id" when the first object has it, else its first field.
#include <cstddef>
#include <cstdint>

#include "common/connectors/jsonl/jsonl_source.h"
#include "common/connectors/text/json_text.h"
#include "fuzz/source_check.h"

namespace sluice::fuzz {
namespace {

std::string KeyOf(std::string_view text) {
  std::string_view first = text.substr(0, text.find('\n'));
  Result<nlohmann::json> j = ParseJson(first);
  if (!j.ok() || !j->is_object() || j->empty() || j->contains("id")) return "id";
  return j->begin().key();
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size < 1) return 0;
  const size_t max_rows = 1 + (data[0] & 7);
  fuzz::MemFile file(data + 1, size - 1);
  SourceSpec spec;
  spec.name = "eu";
  spec.kind = "jsonl";
  spec.path = file.path();
  spec.yaml_path = "sources.eu";
  spec.options["key"] =
      fuzz::KeyOf(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  auto source = OpenJsonlSource(spec);
  if (!source.ok()) return 0;
  fuzz::ReadAndReread(**source, max_rows, size);
  return 0;
}
