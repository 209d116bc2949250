// Value-map files (`map_file`): any bytes as the CSV of `from,to` entries,
// compiled for an enum, an int and a date field, then every entry applied.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "transformer/field_cast.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size < 1) return 0;
  static const FieldType kTypes[] = {FieldType::kEnum, FieldType::kInt, FieldType::kDate,
                                     FieldType::kDecimal};
  fuzz::MemFile file(data + 1, size - 1);
  ModelField field;
  field.name = "specialty";
  field.type = kTypes[data[0] & 3];
  field.precision = 10;
  field.scale = 2;
  FieldMapping mapping;
  mapping.target = field.name;
  mapping.from = "SPEC";
  mapping.map_file = file.path();
  mapping.yaml_path = "mappings[0].fields.specialty";
  Result<FieldCaster> caster = FieldCaster::Create(field, mapping, "crm");
  if (!caster.ok()) {
    fuzz::CheckUtf8(caster.status().message(), "map file error is not utf-8");
    return 0;
  }
  // Each line's first cell, roughly: the mapped values and some that are not.
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    std::string_view line = text.substr(at, end == std::string_view::npos ? end : end - at);
    Value out;
    std::string_view evaluated;
    CastFailure failure;
    caster->Apply(false, line.substr(0, line.find(',')), &out, &evaluated, &failure);
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return 0;
}
