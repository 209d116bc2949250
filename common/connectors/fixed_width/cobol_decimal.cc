#include "common/connectors/fixed_width/cobol_decimal.h"

#include <cstdio>

namespace sluice {
namespace {

// `digits` (most significant first) with the point `scale` from the right.
void FormatDecimal(const std::string& digits, bool negative, int scale, std::string* out) {
  size_t first = digits.find_first_not_of('0');
  const size_t int_digits = digits.size() - static_cast<size_t>(scale);
  if (first == std::string::npos || first > int_digits) first = int_digits;
  out->clear();
  const bool zero = digits.find_first_not_of('0') == std::string::npos;
  if (negative && !zero) out->push_back('-');
  if (first == int_digits) {
    out->push_back('0');
  } else {
    out->append(digits, first, int_digits - first);
  }
  if (scale > 0) out->append(".").append(digits, int_digits, std::string::npos);
}

}  // namespace

std::string HexBytes(std::string_view bytes) {
  std::string hex;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char b[4];
    std::snprintf(b, sizeof(b), "%02X", static_cast<unsigned char>(bytes[i]));
    if (i > 0) hex.push_back(' ');
    hex.append(b);
  }
  return hex;
}

std::string DecodePacked(std::string_view bytes, int scale, std::string* out) {
  std::string digits;
  digits.reserve(bytes.size() * 2);
  bool valid = !bytes.empty();
  for (size_t i = 0; i < bytes.size() && valid; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    const int high = b >> 4, low = b & 0x0F;
    valid = high <= 9 && (i + 1 == bytes.size() ? low >= 0xA : low <= 9);
    digits.push_back(static_cast<char>('0' + high));
    if (i + 1 < bytes.size()) digits.push_back(static_cast<char>('0' + low));
  }
  if (!valid) return "not packed decimal: bytes " + HexBytes(bytes);
  const int sign = static_cast<unsigned char>(bytes.back()) & 0x0F;
  FormatDecimal(digits, sign == 0xB || sign == 0xD, scale, out);
  return "";
}

std::string DecodeZoned(std::string_view text, int scale, std::string* out) {
  out->clear();
  if (text.empty()) return "";
  std::string digits(text);
  bool negative = false;
  char& last = digits.back();
  if (last == '{') {
    last = '0';
  } else if (last >= 'A' && last <= 'I') {
    last = static_cast<char>('1' + (last - 'A'));
  } else if (last == '}') {
    last = '0', negative = true;
  } else if (last >= 'J' && last <= 'R') {
    last = static_cast<char>('1' + (last - 'J')), negative = true;
  } else if (last >= 'p' && last <= 'y') {
    last = static_cast<char>('0' + (last - 'p')), negative = true;
  }
  if (digits.find_first_not_of("0123456789") != std::string::npos ||
      digits.size() < static_cast<size_t>(scale)) {
    return "not zoned decimal: '" + std::string(text) + "'";
  }
  FormatDecimal(digits, negative, scale, out);
  return "";
}

}  // namespace sluice
