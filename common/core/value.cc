#include "common/core/value.h"

#include <date/date.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/core/hash.h"

namespace sluice {

bool IsIntegral(FieldType type) {
  switch (type) {
    case FieldType::kInt:
    case FieldType::kDecimal:
    case FieldType::kDate:
    case FieldType::kTimestamp:
    case FieldType::kBool:
      return true;
    default:
      return false;
  }
}

const char* FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kInt:
      return "int";
    case FieldType::kDecimal:
      return "decimal";
    case FieldType::kDate:
      return "date";
    case FieldType::kTimestamp:
      return "timestamp";
    case FieldType::kBool:
      return "bool";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kReference:
      return "reference";
  }
  return "unknown";
}

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool Schema::operator==(const Schema& other) const {
  if (fields.size() != other.fields.size()) return false;
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& a = fields[i];
    const auto& b = other.fields[i];
    if (a.name != b.name || a.type != b.type || a.precision != b.precision || a.scale != b.scale) {
      return false;
    }
  }
  return true;
}

namespace {

constexpr char kTagNull = 0;
constexpr char kTagIntegral = 1;
constexpr char kTagString = 2;

// Stores the low `bytes` bytes of `u`, least significant first, whatever the
// byte order of the machine (compilers turn this into one store).
char* PutLittleEndian(char* p, uint64_t u, int bytes) {
  for (int b = 0; b < bytes; ++b) p[b] = static_cast<char>((u >> (8 * b)) & 0xff);
  return p + bytes;
}

bool IsIntegralAt(const Schema& schema, size_t i) {
  return i < schema.fields.size() && IsIntegral(schema.fields[i].type);
}

}  // namespace

void EncodeCanonical(const Schema& schema, const std::vector<Value>& values, std::string* out) {
  // Per value: tag 0 (NULL), 1 + 8 little-endian bytes (integral), or
  // 2 + 4-byte little-endian length + bytes (string-like). Field names are
  // not part of it: the schema is fixed per entity and recorded with the run.
  // Hashes of this encoding are persisted: it must never change.
  //
  // Sized first, then written through a pointer: this runs for every record
  // in every stage, byte-wise appends were a visible share of the profile.
  size_t size = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& v = values[i];
    size += v.is_null ? 1 : IsIntegralAt(schema, i) ? 9 : 5 + v.s.size();
  }
  const size_t old_size = out->size();
  out->resize(old_size + size);
  char* p = out->data() + old_size;
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& v = values[i];
    if (v.is_null) {
      *p++ = kTagNull;
    } else if (IsIntegralAt(schema, i)) {
      *p++ = kTagIntegral;
      p = PutLittleEndian(p, static_cast<uint64_t>(v.i), 8);
    } else {
      *p++ = kTagString;
      p = PutLittleEndian(p, static_cast<uint32_t>(v.s.size()), 4);
      std::memcpy(p, v.s.data(), v.s.size());
      p += v.s.size();
    }
  }
}

Result<std::vector<Value>> DecodeCanonical(const Schema& schema, std::string_view bytes) {
  auto take = [&bytes](size_t n, uint64_t* u) {
    if (bytes.size() < n) return false;
    *u = 0;
    for (size_t b = 0; b < n; ++b) *u |= uint64_t{static_cast<unsigned char>(bytes[b])} << (8 * b);
    bytes.remove_prefix(n);
    return true;
  };
  std::vector<Value> values(schema.fields.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (bytes.empty())
      return Status::Corruption("canonical values end at field " + std::to_string(i));
    const char tag = bytes.front();
    bytes.remove_prefix(1);
    uint64_t u = 0;
    if (tag == kTagNull) continue;
    if (tag == kTagIntegral && IsIntegralAt(schema, i) && take(8, &u)) {
      values[i] = Value::Int(static_cast<int64_t>(u));
    } else if (tag == kTagString && !IsIntegralAt(schema, i) && take(4, &u) && u <= bytes.size()) {
      values[i] = Value::Str(std::string(bytes.substr(0, u)));
      bytes.remove_prefix(u);
    } else {
      return Status::Corruption("canonical value " + std::to_string(i) + " is malformed");
    }
  }
  if (!bytes.empty()) return Status::Corruption("canonical values have bytes after the last field");
  return values;
}

uint64_t ContentHash(const Schema& schema, const std::vector<Value>& values) {
  // One reused buffer per thread and one-shot xxh64: streaming the many
  // small pieces through XXH64_update would cost more than copying them.
  thread_local std::string buf;
  buf.clear();
  EncodeCanonical(schema, values, &buf);
  return Hash64(buf);
}

std::string FormatDecimalUnits(int64_t units, int scale) {
  bool neg = units < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(units + 1)) + 1 : static_cast<uint64_t>(units);
  std::string digits = std::to_string(u);
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) digits.insert(0, scale - digits.size() + 1, '0');
    digits.insert(digits.size() - scale, 1, '.');
  }
  return neg ? "-" + digits : digits;
}

Result<int64_t> ParseDecimalUnits(std::string_view text, int scale, char decimal_point,
                                  char group_separator) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    neg = text[i] == '-';
    ++i;
  }
  __int128 units = 0;
  int frac_digits = 0;
  bool seen_point = false, any_digit = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (seen_point) {
        if (++frac_digits > scale) {
          if (c != '0')
            return Status::InvalidArgument("more than " + std::to_string(scale) +
                                           " decimal places");
          continue;
        }
      }
      units = units * 10 + (c - '0');
      if (units > INT64_MAX) return Status::InvalidArgument("decimal out of range");
    } else if (c == decimal_point && !seen_point) {
      seen_point = true;
    } else if (group_separator != '\0' && c == group_separator && !seen_point) {
      continue;
    } else {
      return Status::InvalidArgument("not a decimal");
    }
  }
  if (!any_digit) return Status::InvalidArgument("not a decimal");
  for (int k = std::min(frac_digits, scale); k < scale; ++k) {
    units *= 10;
    if (units > INT64_MAX) return Status::InvalidArgument("decimal out of range");
  }
  return static_cast<int64_t>(neg ? -units : units);
}

Result<int64_t> CivilDays(int year, unsigned month, unsigned day) {
  date::year_month_day ymd{date::year{year}, date::month{month}, date::day{day}};
  if (!ymd.ok()) return Status::InvalidArgument("no such date");
  return static_cast<int64_t>(date::sys_days(ymd).time_since_epoch().count());
}

std::string FormatDate(int64_t days) {
  date::year_month_day ymd{date::sys_days{date::days{days}}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string FormatTimestamp(int64_t micros) {
  using namespace std::chrono;
  sys_time<microseconds> tp{microseconds{micros}};
  auto day = floor<date::days>(tp);
  date::year_month_day ymd{day};
  date::hh_mm_ss<microseconds> t{tp - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(t.hours().count()), static_cast<int>(t.minutes().count()),
                static_cast<int>(t.seconds().count()));
  std::string out = buf;
  if (auto us = t.subseconds().count(); us != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
    out += buf;
  }
  return out + "Z";
}

std::optional<std::string> FormatValue(const FieldSpec& field, const Value& value) {
  if (value.is_null) return std::nullopt;
  switch (field.type) {
    case FieldType::kInt:
      return std::to_string(value.i);
    case FieldType::kDecimal:
      return FormatDecimalUnits(value.i, field.scale);
    case FieldType::kDate:
      return FormatDate(value.i);
    case FieldType::kTimestamp:
      return FormatTimestamp(value.i);
    case FieldType::kBool:
      return value.i ? "true" : "false";
    default:
      return value.s;
  }
}

namespace {

Result<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument("not an integer");
  }
  return v;
}

Result<int64_t> ParseIsoDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return Status::InvalidArgument("not a date");
  SLUICE_ASSIGN_OR_RETURN(int64_t y, ParseInt(t.substr(0, 4)));
  SLUICE_ASSIGN_OR_RETURN(int64_t m, ParseInt(t.substr(5, 2)));
  SLUICE_ASSIGN_OR_RETURN(int64_t d, ParseInt(t.substr(8, 2)));
  return CivilDays(static_cast<int>(y), static_cast<unsigned>(m), static_cast<unsigned>(d));
}

}  // namespace

Result<Value> ParseCanonical(const FieldSpec& field, std::string_view text) {
  switch (field.type) {
    case FieldType::kInt: {
      SLUICE_ASSIGN_OR_RETURN(int64_t v, ParseInt(text));
      return Value::Int(v);
    }
    case FieldType::kDecimal: {
      SLUICE_ASSIGN_OR_RETURN(int64_t v, ParseDecimalUnits(text, field.scale));
      return Value::Int(v);
    }
    case FieldType::kDate: {
      SLUICE_ASSIGN_OR_RETURN(int64_t v, ParseIsoDate(text));
      return Value::Int(v);
    }
    case FieldType::kTimestamp: {
      // YYYY-MM-DDTHH:MM:SS[.ffffff]Z
      if (text.size() < 20 || text[10] != 'T' || text.back() != 'Z') {
        return Status::InvalidArgument("not a timestamp");
      }
      SLUICE_ASSIGN_OR_RETURN(int64_t days, ParseIsoDate(text.substr(0, 10)));
      SLUICE_ASSIGN_OR_RETURN(int64_t hh, ParseInt(text.substr(11, 2)));
      SLUICE_ASSIGN_OR_RETURN(int64_t mm, ParseInt(text.substr(14, 2)));
      SLUICE_ASSIGN_OR_RETURN(int64_t ss, ParseInt(text.substr(17, 2)));
      int64_t us = 0;
      if (text.size() > 20 && text[19] == '.') {
        std::string frac(text.substr(20, text.size() - 21));
        frac.resize(6, '0');
        SLUICE_ASSIGN_OR_RETURN(us, ParseInt(frac));
      }
      return Value::Int(((days * 24 + hh) * 60 + mm) * 60 * 1000000 + ss * 1000000 + us);
    }
    case FieldType::kBool:
      if (text == "true" || text == "1") return Value::Int(1);
      if (text == "false" || text == "0") return Value::Int(0);
      return Status::InvalidArgument("not a bool");
    default:
      return Value::Str(std::string(text));
  }
}

}  // namespace sluice
