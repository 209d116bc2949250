// The casts of source text to model types: dates and timestamps (with a
// fuzzed format too), decimals (with locales' separators), ints, bools, and
// phone numbers to E.164. The first byte chooses the cast; the input's first
// line is the format (date, timestamp) or region (phone), the rest the value.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/core/datetime.h"
#include "fuzz/fuzz_input.h"
#include "transformer/field_cast.h"
#include "transformer/text_steps.h"

namespace {

using sluice::FieldType;

struct Cast {
  FieldType type;
  const char* locale;  // decimals
  bool first_line_is_format;
};

const Cast kCasts[] = {
    {FieldType::kDate, "", true},          {FieldType::kTimestamp, "", true},
    {FieldType::kDecimal, "", false},      {FieldType::kDecimal, "fr_FR", false},
    {FieldType::kDecimal, "de_DE", false}, {FieldType::kInt, "", false},
    {FieldType::kBool, "", false},         {FieldType::kDate, "", false},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size < 1) return 0;
  const uint8_t choice = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view first = text.substr(0, text.find('\n'));
  std::string_view rest = first.size() < text.size() ? text.substr(first.size() + 1) : "";

  if (choice & 0x80) {  // phone numbers: region, then the number
    std::string out, reason;
    const std::string region(first.substr(0, 2));
    (void)PhoneFormatter::ToE164(rest, region, &out, &reason);
    // The reason quotes the region: valid when the region is (sources hand on
    // valid UTF-8 only).
    if (FindInvalidUtf8(region) == std::string_view::npos) {
      fuzz::CheckUtf8(reason, "phone reason is not utf-8");
    }
    return 0;
  }
  const Cast& cast = kCasts[choice & 7];
  ModelField field;
  field.name = "value";
  field.type = cast.type;
  field.precision = (choice & 0x40) ? 18 : 12;
  field.scale = (choice & 0x20) ? 0 : 3;
  FieldMapping mapping;
  mapping.target = "value";
  mapping.from = "v";
  mapping.yaml_path = "mappings[0].fields.value";
  mapping.locale = cast.locale;
  mapping.timezone = (choice & 0x10) ? "Europe/Paris" : "";
  std::string_view value = text;
  if (cast.first_line_is_format) {
    mapping.formats = {std::string(first), "%d/%m/%Y", "%m/%d/%Y"};
    value = rest;
    // The format straight to the parsers as well.
    (void)ParseDate(value, first);
    (void)ParseTimestamp(value, first, mapping.timezone.empty() ? "UTC" : mapping.timezone);
  }
  Result<FieldCaster> caster = FieldCaster::Create(field, mapping, "crm");
  if (!caster.ok()) return 0;
  Value out;
  std::string_view evaluated;
  CastFailure failure;
  caster->Apply(false, value, &out, &evaluated, &failure);
  return 0;
}
