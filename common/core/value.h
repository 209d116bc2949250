// Typed values and schemas, and the one canonical encoding used for hashing.
//
// A Value is NULL, an int64 or a string; the schema field says how to read it:
// ints carry int, decimal units at the field's scale, days since 1970-01-01,
// microseconds since the epoch (UTC) or 0/1 for bools. NULL is distinct from "".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace sluice {

enum class FieldType { kString, kInt, kDecimal, kDate, kTimestamp, kBool, kEnum, kReference };

// True when the type's values are carried as int64 rather than as strings.
bool IsIntegral(FieldType type);
// "string", "int", "decimal", ...
const char* FieldTypeName(FieldType type);

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  int precision = 0;  // decimals only
  int scale = 0;      // decimals only
};

struct Schema {
  std::vector<FieldSpec> fields;
  // Index of the named field, or -1.
  int IndexOf(std::string_view name) const;
  bool operator==(const Schema& other) const;
};

struct Value {
  bool is_null = true;
  int64_t i = 0;
  std::string s;

  static Value Null() { return {}; }
  static Value Int(int64_t v) { return {false, v, {}}; }
  static Value Str(std::string v) { return {false, 0, std::move(v)}; }
  bool operator==(const Value& o) const { return is_null == o.is_null && i == o.i && s == o.s; }
};

// Appends the canonical encoding of `values` (read through `schema`) to `out`.
void EncodeCanonical(const Schema& schema, const std::vector<Value>& values, std::string* out);
// Inverse of EncodeCanonical: the values of `bytes` read through `schema`;
// Corruption when the bytes are not one value per field.
Result<std::vector<Value>> DecodeCanonical(const Schema& schema, std::string_view bytes);
// xxh64 of the canonical encoding: the record content hash.
uint64_t ContentHash(const Schema& schema, const std::vector<Value>& values);

// Text form of a typed value as sluice writes it to targets and reports:
// decimals "1234.50", dates "2020-02-29", timestamps "2020-02-29T13:05:00Z",
// bools "true"/"false". NULL gives an empty optional.
std::optional<std::string> FormatValue(const FieldSpec& field, const Value& value);
// Inverse of FormatValue: parses the canonical text form back to a Value.
Result<Value> ParseCanonical(const FieldSpec& field, std::string_view text);

// Decimal text ("-12.5", "1234.56") to units at `scale`; refuses more
// fractional digits than the scale allows and overflow.
Result<int64_t> ParseDecimalUnits(std::string_view text, int scale, char decimal_point = '.',
                                  char group_separator = '\0');
std::string FormatDecimalUnits(int64_t units, int scale);

// Days since 1970-01-01 for a civil date, and back. `CivilDays` fails on
// impossible dates such as 2020-02-31.
Result<int64_t> CivilDays(int year, unsigned month, unsigned day);
std::string FormatDate(int64_t days);
std::string FormatTimestamp(int64_t micros);

}  // namespace sluice
