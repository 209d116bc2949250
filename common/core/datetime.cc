#include "common/core/datetime.h"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <exception>
#include <string>

#include "common/core/value.h"

namespace sluice {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

constexpr const char* kMonthNames[12] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};

// What a format matched. Fields the format does not mention keep their
// defaults (1970-01-01 00:00:00, no offset).
struct Parsed {
  int year = 1970;
  unsigned month = 1;
  unsigned day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int64_t micros = 0;
  bool has_offset = false;
  int offset_seconds = 0;  // local time minus UTC
};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string At(size_t pos) { return " at position " + std::to_string(pos); }

// Reads between min_digits and max_digits digits (greedy) at text[*pos].
bool ReadNumber(std::string_view text, size_t* pos, int min_digits, int max_digits, int* out) {
  int value = 0;
  int n = 0;
  while (n < max_digits && *pos + n < text.size() && IsDigit(text[*pos + n])) {
    value = value * 10 + (text[*pos + n] - '0');
    ++n;
  }
  if (n < min_digits) return false;
  *pos += n;
  *out = value;
  return true;
}

// A month name at text[*pos]: the full English name or its first three
// letters, any case.
bool ReadMonthName(std::string_view text, size_t* pos, unsigned* month) {
  auto prefix_matches = [&](std::string_view name, size_t len) {
    if (*pos + len > text.size()) return false;
    for (size_t k = 0; k < len; ++k) {
      if (Lower(text[*pos + k]) != name[k]) return false;
    }
    return true;
  };
  for (unsigned m = 0; m < 12; ++m) {
    std::string_view name = kMonthNames[m];
    size_t len = prefix_matches(name, name.size()) ? name.size() : prefix_matches(name, 3) ? 3 : 0;
    if (len != 0) {
      *pos += len;
      *month = m + 1;
      return true;
    }
  }
  return false;
}

// "Z", "+hh", "+hhmm" or "+hh:mm" (or '-').
bool ReadOffset(std::string_view text, size_t* pos, int* seconds) {
  if (*pos < text.size() && (text[*pos] == 'Z' || text[*pos] == 'z')) {
    ++*pos;
    *seconds = 0;
    return true;
  }
  if (*pos >= text.size() || (text[*pos] != '+' && text[*pos] != '-')) return false;
  int sign = text[*pos] == '-' ? -1 : 1;
  size_t p = *pos + 1;
  int hours = 0, minutes = 0;
  if (!ReadNumber(text, &p, 2, 2, &hours)) return false;
  if (p < text.size() && text[p] == ':') {
    ++p;
    if (!ReadNumber(text, &p, 2, 2, &minutes)) return false;
  } else if (p < text.size() && IsDigit(text[p])) {
    if (!ReadNumber(text, &p, 2, 2, &minutes)) return false;
  }
  if (hours > 23 || minutes > 59) return false;
  *pos = p;
  *seconds = sign * (hours * 3600 + minutes * 60);
  return true;
}

// Matches all of `text` against `format`. On failure `*reached` tells how
// far the text matched, so that ParseDateAny can report the closest format.
Status Match(std::string_view text, std::string_view format, Parsed* out, size_t* reached) {
  size_t pos = 0;
  *reached = 0;
  for (size_t f = 0; f < format.size(); ++f) {
    *reached = pos;
    char fc = format[f];
    if (fc != '%') {
      if (pos >= text.size() || text[pos] != fc) {
        return Status::InvalidArgument(std::string("expected '") + fc + "'" + At(pos));
      }
      ++pos;
      continue;
    }
    if (++f >= format.size()) return Status::InvalidArgument("format ends with '%'");
    char d = format[f];
    int n = 0;
    bool ok = true;
    const char* what = "";
    switch (d) {
      case 'd':
        what = "day";
        ok = ReadNumber(text, &pos, 1, 2, &n);
        out->day = static_cast<unsigned>(n);
        break;
      case 'm':
        what = "month";
        ok = ReadNumber(text, &pos, 1, 2, &n);
        out->month = static_cast<unsigned>(n);
        break;
      case 'Y':
        what = "4-digit year";
        ok = ReadNumber(text, &pos, 4, 4, &out->year);
        break;
      case 'y':
        // POSIX pivot: 69-99 -> 1969-1999, 00-68 -> 2000-2068.
        what = "2-digit year";
        ok = ReadNumber(text, &pos, 2, 2, &n);
        out->year = n >= 69 ? 1900 + n : 2000 + n;
        break;
      case 'H':
        what = "hour";
        ok = ReadNumber(text, &pos, 1, 2, &out->hour) && out->hour <= 23;
        break;
      case 'M':
        what = "minute";
        ok = ReadNumber(text, &pos, 1, 2, &out->minute) && out->minute <= 59;
        break;
      case 'S':
        what = "second";
        ok = ReadNumber(text, &pos, 1, 2, &out->second) && out->second <= 59;
        break;
      case 'f': {
        what = "fraction of a second";
        size_t start = pos;
        ok = ReadNumber(text, &pos, 1, 6, &n);
        if (ok) {
          int64_t us = n;
          for (size_t k = pos - start; k < 6; ++k) us *= 10;
          out->micros = us;
        }
        break;
      }
      case 'b':
        what = "month name";
        ok = ReadMonthName(text, &pos, &out->month);
        break;
      case 'z':
        what = "utc offset";
        ok = ReadOffset(text, &pos, &out->offset_seconds);
        out->has_offset = true;
        break;
      case '%':
        what = "'%'";
        ok = pos < text.size() && text[pos] == '%';
        if (ok) ++pos;
        break;
      default:
        return Status::InvalidArgument(std::string("unsupported directive %") + d + " in format");
    }
    if (!ok) return Status::InvalidArgument(std::string("expected ") + what + At(*reached));
  }
  *reached = pos;
  if (pos != text.size()) return Status::InvalidArgument("unexpected text" + At(pos));
  // A complete syntactic match ranks above every partial one.
  *reached = text.size() + 1;
  return Status::Ok();
}

Result<int64_t> Days(const Parsed& p) { return CivilDays(p.year, p.month, p.day); }

int64_t TimeOfDayMicros(const Parsed& p) {
  return (static_cast<int64_t>(p.hour) * 3600 + p.minute * 60 + p.second) * kMicrosPerSecond +
         p.micros;
}

// Fixed offsets given as a zone: "+02:00", "-0530", "Z".
bool ParseFixedOffset(std::string_view tz, int* seconds) {
  size_t pos = 0;
  return ReadOffset(tz, &pos, seconds) && pos == tz.size();
}

// Converts a local wall-clock time in `tz` to UTC microseconds.
Result<int64_t> LocalToUtc(int64_t local_micros, std::string_view tz) {
  if (tz.empty() || tz == "UTC" || tz == "Etc/UTC") return local_micros;
  int fixed = 0;
  if (ParseFixedOffset(tz, &fixed)) return local_micros - fixed * kMicrosPerSecond;
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(tz);
  } catch (const std::exception&) {
    return Status::InvalidArgument("unknown time zone '" + std::string(tz) + "'");
  }
  using std::chrono::microseconds;
  date::local_time<microseconds> local{microseconds{local_micros}};
  date::local_info info = zone->get_info(date::floor<std::chrono::seconds>(local));
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      // Ambiguous (the hour repeated when clocks go back): the earlier instant.
      return local_micros - std::chrono::duration_cast<microseconds>(info.first.offset).count();
    case date::local_info::nonexistent:
    default:
      return Status::InvalidArgument("local time does not exist in " + std::string(tz) +
                                     " (clock change)");
  }
}

std::string JoinFormats(const std::vector<std::string>& formats) {
  std::string out;
  for (const auto& f : formats) {
    if (!out.empty()) out += ", ";
    out += f;
  }
  return out;
}

// Tries each format with `parse`; reports the error of the format that
// matched the most text.
template <typename ParseOne>
Result<int64_t> ParseAny(std::string_view text, const std::vector<std::string>& formats,
                         const char* kind, ParseOne parse) {
  if (formats.empty()) return Status::InvalidArgument(std::string("no ") + kind + " formats");
  Status best;
  size_t best_reached = 0;
  for (const auto& format : formats) {
    size_t reached = 0;
    Result<int64_t> r = parse(format, &reached);
    if (r.ok()) return r;
    if (best.ok() || reached > best_reached) {
      best = r.status();
      best_reached = reached;
    }
  }
  return Status::InvalidArgument("cannot parse '" + std::string(text) + "' as " + kind +
                                 " with formats " + JoinFormats(formats) + ": " + best.message());
}

Result<int64_t> ParseDateReached(std::string_view text, std::string_view format, size_t* reached) {
  Parsed p;
  SLUICE_RETURN_IF_ERROR(Match(text, format, &p, reached));
  return Days(p);
}

Result<int64_t> ParseTimestampReached(std::string_view text, std::string_view format,
                                      std::string_view tz, size_t* reached) {
  Parsed p;
  SLUICE_RETURN_IF_ERROR(Match(text, format, &p, reached));
  SLUICE_ASSIGN_OR_RETURN(int64_t days, Days(p));
  int64_t local = days * kMicrosPerDay + TimeOfDayMicros(p);
  if (p.has_offset) return local - p.offset_seconds * kMicrosPerSecond;
  return LocalToUtc(local, tz);
}

}  // namespace

Result<int64_t> ParseDate(std::string_view text, std::string_view format) {
  size_t reached = 0;
  return ParseDateReached(text, format, &reached);
}

Result<int64_t> ParseTimestamp(std::string_view text, std::string_view format,
                               std::string_view tz) {
  size_t reached = 0;
  return ParseTimestampReached(text, format, tz, &reached);
}

Result<int64_t> ParseDateAny(std::string_view text, const std::vector<std::string>& formats) {
  return ParseAny(text, formats, "date", [&](const std::string& format, size_t* reached) {
    return ParseDateReached(text, format, reached);
  });
}

Result<int64_t> ParseTimestampAny(std::string_view text, const std::vector<std::string>& formats,
                                  std::string_view tz) {
  return ParseAny(text, formats, "timestamp", [&](const std::string& format, size_t* reached) {
    return ParseTimestampReached(text, format, tz, reached);
  });
}

}  // namespace sluice
