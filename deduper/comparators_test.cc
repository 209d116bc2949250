// Comparators against published values (Winkler 1990 and the usual textbook
// examples) and their UTF-8 behaviour.
#include "deduper/comparators.h"

#include <gtest/gtest.h>

namespace sluice::similarity {
namespace {

TEST(JaroWinkler, PublishedValues) {
  // Winkler (1990) / the Wikipedia examples.
  EXPECT_NEAR(Jaro("MARTHA", "MARHTA"), 0.944, 0.001);
  EXPECT_NEAR(JaroWinkler("MARTHA", "MARHTA"), 0.961, 0.001);
  EXPECT_NEAR(JaroWinkler("DWAYNE", "DUANE"), 0.840, 0.001);
  EXPECT_NEAR(JaroWinkler("DIXON", "DICKSONX"), 0.813, 0.001);
  EXPECT_NEAR(Jaro("CRATE", "TRACE"), 0.733, 0.001);
  EXPECT_DOUBLE_EQ(JaroWinkler("abc", "abc"), 1.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("abc", "xyz"), 0.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("", ""), 1.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("", "a"), 0.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("a", "a"), 1.0);
}

TEST(JaroWinkler, CountsCodePointsNotBytes) {
  // "é" is two bytes: a byte-wise kernel would see a different length.
  EXPECT_NEAR(JaroWinkler("jos\xc3\xa9", "josa"), JaroWinkler("josx", "josa"), 1e-12);
  EXPECT_NEAR(JaroWinkler("M\xc3\x9cLLER", "MUELLER"), JaroWinkler("MXLLER", "MUELLER"), 1e-12);
}

TEST(JaroWinkler, LongStringsUseTheHeapBuffers) {
  std::string a(400, 'a'), b(400, 'a');
  b[200] = 'b';
  EXPECT_GT(JaroWinkler(a, b), 0.99);
  EXPECT_LT(JaroWinkler(a, b), 1.0);
}

TEST(Levenshtein, KnownDistances) {
  EXPECT_EQ(Levenshtein("kitten", "sitting"), 3);
  EXPECT_EQ(Levenshtein("flaw", "lawn"), 2);
  EXPECT_EQ(Levenshtein("", "abc"), 3);
  EXPECT_EQ(Levenshtein("abc", ""), 3);
  EXPECT_EQ(Levenshtein("same", "same"), 0);
  EXPECT_EQ(Levenshtein("ca", "ac"), 2);
  EXPECT_NEAR(LevenshteinSimilarity("kitten", "sitting"), 1.0 - 3.0 / 7.0, 1e-12);
  // Code points: one substitution, not two byte edits.
  EXPECT_EQ(Levenshtein("caf\xc3\xa9", "cafe"), 1);
  EXPECT_NEAR(LevenshteinSimilarity("caf\xc3\xa9", "cafe"), 0.75, 1e-12);
  std::string a(300, 'x'), b(300, 'x');
  b[0] = 'y';
  b[299] = 'z';
  EXPECT_EQ(Levenshtein(a, b), 2);
}

TEST(DamerauLevenshtein, Transpositions) {
  EXPECT_EQ(DamerauLevenshtein("ca", "ac"), 1);
  EXPECT_EQ(DamerauLevenshtein("martha", "marhta"), 1);
  EXPECT_EQ(DamerauLevenshtein("kitten", "sitting"), 3);
  // Optimal string alignment: a transposed pair is not edited again.
  EXPECT_EQ(DamerauLevenshtein("ca", "abc"), 3);
  EXPECT_NEAR(DamerauLevenshteinSimilarity("1804974", "1809474"), 1.0 - 1.0 / 7.0, 1e-12);
}

TEST(TokenSet, Jaccard) {
  EXPECT_DOUBLE_EQ(TokenSetSimilarity("st james", "james st"), 1.0);
  EXPECT_DOUBLE_EQ(TokenSetSimilarity("st james", "st james park"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(TokenSetSimilarity("a-b, c", "c b a a"), 1.0);
  EXPECT_DOUBLE_EQ(TokenSetSimilarity("x", "y"), 0.0);
  EXPECT_DOUBLE_EQ(TokenSetSimilarity("", ""), 1.0);
  EXPECT_DOUBLE_EQ(TokenSetSimilarity("", "a"), 0.0);
}

TEST(Soundex, AmericanSoundex) {
  EXPECT_EQ(Soundex("Robert"), "R163");
  EXPECT_EQ(Soundex("Rupert"), "R163");
  EXPECT_EQ(Soundex("Rubin"), "R150");
  EXPECT_EQ(Soundex("Ashcraft"), "A261");  // h is transparent
  EXPECT_EQ(Soundex("Ashcroft"), "A261");
  EXPECT_EQ(Soundex("Tymczak"), "T522");
  EXPECT_EQ(Soundex("Pfister"), "P236");  // first letter's code swallows f
  EXPECT_EQ(Soundex("Honeyman"), "H555");
  EXPECT_EQ(Soundex("Lee"), "L000");
  EXPECT_EQ(Soundex("o'neil"), "O540");
  EXPECT_EQ(Soundex("1234"), "");
  char out[5];
  EXPECT_FALSE(Soundex("", out));
}

TEST(FoldText, CaseAccentsAndPunctuation) {
  std::string out;
  FoldText(
      "  Jos\xc3\xa9-Mar\xc3\xad"
      "a  O'Neil ",
      &out);
  EXPECT_EQ(out, "jose maria o neil");
  out.clear();
  FoldText(
      "M\xc3\x9c"
      "LLER Stra\xc3\x9f"
      "e",
      &out);
  EXPECT_EQ(out, "muller strasse");
  out.clear();
  FoldText(
      "\xc5\x81\xc3\xb3"
      "d\xc5\xba",
      &out);  // Łódź
  EXPECT_EQ(out, "lodz");
  out.clear();
  FoldText("\xe5\x8c\x97\xe4\xba\xac", &out);  // CJK is kept as it is
  EXPECT_EQ(out, "\xe5\x8c\x97\xe4\xba\xac");
  out.clear();
  FoldText("---", &out);
  EXPECT_EQ(out, "");
}

// The bit-parallel kernels (ASCII texts of up to 64 bytes) against the plain
// dynamic programmes, on random texts over small alphabets (many repeats,
// transpositions and window edge cases) and on lengths around 64.
TEST(BitParallelKernels, AgreeWithTheDynamicProgrammes) {
  uint64_t state = 12345;
  auto next = [&state]() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  auto text = [&](size_t max_len, int alphabet) {
    std::string s(next() % (max_len + 1), 'a');
    for (char& c : s) c = static_cast<char>('a' + next() % alphabet);
    return s;
  };
  int checked = 0;
  for (int round = 0; round < 100000; ++round) {
    const int alphabet = 2 + static_cast<int>(next() % 6);
    const size_t max_len = round % 10 == 0 ? 70 : 12;
    std::string a = text(max_len, alphabet), b = text(max_len, alphabet);
    if (round % 3 == 0 && !a.empty()) {  // a near copy: swaps and edits
      b = a;
      for (int k = static_cast<int>(next() % 3); k >= 0; --k) {
        const size_t i = next() % b.size();
        if (i + 1 < b.size() && next() % 2)
          std::swap(b[i], b[i + 1]);
        else
          b[i] = static_cast<char>('a' + next() % alphabet);
      }
    }
    ASSERT_EQ(Jaro(a, b), reference::Jaro(a, b)) << a << " / " << b;
    ASSERT_EQ(Levenshtein(a, b), reference::Levenshtein(a, b)) << a << " / " << b;
    ASSERT_EQ(DamerauLevenshtein(a, b), reference::DamerauLevenshtein(a, b)) << a << " / " << b;
    ++checked;
  }
  EXPECT_EQ(checked, 100000);
  // The full word and one past it (the DP fallback).
  std::string a(64, 'x'), b(64, 'x');
  b[63] = 'y';
  EXPECT_EQ(Levenshtein(a, b), 1);
  EXPECT_EQ(Jaro(a, b), reference::Jaro(a, b));
  a += 'x';
  EXPECT_EQ(Levenshtein(a, b), 2);
}

TEST(AbsDifference, NoOverflow) {
  EXPECT_EQ(AbsDifference(3, 10), 7u);
  EXPECT_EQ(AbsDifference(10, 3), 7u);
  EXPECT_EQ(AbsDifference(INT64_MIN, INT64_MAX), UINT64_MAX);
}

}  // namespace
}  // namespace sluice::similarity
