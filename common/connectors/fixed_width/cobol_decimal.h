// COBOL numeric fields of mainframe exports, read into decimal text
// ("-1234.56") that a mapping casts like any other source text.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// Decodes a COMP-3 (packed decimal) field: two digits a byte, the last
// half-byte the sign (C, A, E, F positive, B, D negative), `scale` digits
// after the implied decimal point. Returns "" and sets `*out`
// ("-12345.67"; leading zeros dropped, "-0" as "0"), or the reason the bytes
// are not packed decimal ("not packed decimal: bytes 12 3G 4C").
std::string DecodePacked(std::string_view bytes, int scale, std::string* out);

// Decodes a zoned decimal field already converted to text: digits, the last
// one possibly overpunched with the sign as EBCDIC writes it ('{', 'A'-'I'
// positive 0-9; '}', 'J'-'R' negative 0-9; also 'p'-'y' negative, as ASCII
// COBOL compilers write it). Empty text gives "". Returns "" and sets
// `*out`, or the reason.
std::string DecodeZoned(std::string_view text, int scale, std::string* out);

// "12 3G 4C": bytes in hex, as a rejection shows a binary field.
std::string HexBytes(std::string_view bytes);

}  // namespace sluice
