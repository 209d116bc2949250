// String, date and number comparators for fuzzy matching.
//
// Every string kernel takes UTF-8 and measures in code points. When both
// inputs are ASCII (the common case after FoldText) the kernels run on the
// bytes directly; otherwise they decode into per-thread buffers that are
// reused, so no call allocates once the buffers have grown. All functions are
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::similarity {

// Jaro similarity in [0, 1]; 1 for two empty strings.
double Jaro(std::string_view a, std::string_view b);
// Jaro-Winkler (prefix scale 0.1, up to 4 common leading characters,
// applied when Jaro > 0.7): JaroWinkler("MARTHA", "MARHTA") = 0.961.
double JaroWinkler(std::string_view a, std::string_view b);

// Edit distance in code points (insert, delete, substitute).
int Levenshtein(std::string_view a, std::string_view b);
// Optimal-string-alignment distance: Levenshtein plus the transposition of
// two adjacent characters (a substring is not edited twice).
int DamerauLevenshtein(std::string_view a, std::string_view b);
// 1 - distance / longer length, in [0, 1]; 1 for two empty strings.
double LevenshteinSimilarity(std::string_view a, std::string_view b);
double DamerauLevenshteinSimilarity(std::string_view a, std::string_view b);

// The same for texts known to be ASCII (not checked), as the fuzzy matcher
// knows from folding each record once: no scan for multi-byte characters.
// Texts of up to 64 bytes take bit-parallel kernels (Jaro: one word
// operation per character; edit distances: Myers 1999 and Hyyro 2003).
double JaroWinklerAscii(std::string_view a, std::string_view b);
int LevenshteinAscii(std::string_view a, std::string_view b);
int DamerauLevenshteinAscii(std::string_view a, std::string_view b);

// Jaccard index of the sets of tokens (runs of letters and digits; any other
// byte separates): "st james" vs "james st" = 1. 1 for two token-less texts.
double TokenSetSimilarity(std::string_view a, std::string_view b);

// American Soundex of the letters of `s` ("Robert" -> "R163"), written to
// `out` (4 characters and a NUL). Non-ASCII letters are skipped, so fold
// first. Returns false, writing "", when `s` holds no letter.
bool Soundex(std::string_view s, char out[5]);
std::string Soundex(std::string_view s);

// Lower-cases, maps accented Latin letters to their base letter ("É" -> "e",
// "ß" -> "ss", "Ø" -> "o"), turns punctuation into spaces, collapses runs of
// spaces and trims, appending to `out`. Other characters are kept as they
// are. "  José-María  O'Neil" -> "jose maria o neil".
void FoldText(std::string_view in, std::string* out);

// |a - b| for days or any integer measure, without overflow.
uint64_t AbsDifference(int64_t a, int64_t b);

// The plain dynamic-programming kernels on code points, without the
// bit-parallel fast paths (texts of up to 64 ASCII bytes) that the functions
// above take: the fast paths must give exactly these results (tests).
namespace reference {
double Jaro(std::string_view a, std::string_view b);
int Levenshtein(std::string_view a, std::string_view b);
int DamerauLevenshtein(std::string_view a, std::string_view b);
}  // namespace reference

}  // namespace sluice::similarity
