#include "deduper/comparators.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace sluice::similarity {
namespace {

// Latin-1 Supplement and Latin Extended-A letters (U+00C0..U+017F) folded to
// lower-case ASCII, the common accent drift between systems. "?" keeps the
// character as it is.
constexpr const char* kFold[] = {
    "a", "a", "a",  "a",  "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",   // U+00C0
    "d", "n", "o",  "o",  "o", "o", "o",  " ", "o", "u", "u", "u", "u", "y", "th", "ss",  // U+00D0
    "a", "a", "a",  "a",  "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",   // U+00E0
    "d", "n", "o",  "o",  "o", "o", "o",  " ", "o", "u", "u", "u", "u", "y", "th", "y",   // U+00F0
    "a", "a", "a",  "a",  "a", "a", "c",  "c", "c", "c", "c", "c", "c", "c", "d",  "d",   // U+0100
    "d", "d", "e",  "e",  "e", "e", "e",  "e", "e", "e", "e", "e", "g", "g", "g",  "g",   // U+0110
    "g", "g", "g",  "g",  "h", "h", "h",  "h", "i", "i", "i", "i", "i", "i", "i",  "i",   // U+0120
    "i", "i", "ij", "ij", "j", "j", "k",  "k", "k", "l", "l", "l", "l", "l", "l",  "l",   // U+0130
    "l", "l", "l",  "n",  "n", "n", "n",  "n", "n", "n", "n", "n", "o", "o", "o",  "o",   // U+0140
    "o", "o", "oe", "oe", "r", "r", "r",  "r", "r", "r", "s", "s", "s", "s", "s",  "s",   // U+0150
    "s", "s", "t",  "t",  "t", "t", "t",  "t", "u", "u", "u", "u", "u", "u", "u",  "u",   // U+0160
    "u", "u", "u",  "u",  "w", "w", "y",  "y", "y", "z", "z", "z", "z", "z", "z",  "s",   // U+0170
};

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// Decodes UTF-8 into code points; a malformed byte stands for itself, so
// every input has some decoding and equal texts decode equally.
void Decode(std::string_view s, std::vector<char32_t>* out) {
  out->clear();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (extra == 0 || end - p <= extra) {
      // ASCII, a stray continuation byte or a truncated sequence.
      out->push_back(c);
      ++p;
      continue;
    }
    char32_t cp = c & (0x3F >> extra);
    bool ok = true;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (!ok) {
      out->push_back(c);
      ++p;
      continue;
    }
    out->push_back(cp);
    p += extra + 1;
  }
}

// Per-thread scratch space, grown on demand and reused.
struct Scratch {
  std::vector<char32_t> a, b;
  std::vector<int> row0, row1, row2;
  std::vector<uint8_t> flags;
};
Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

template <typename T>
double JaroKernel(const T* a, size_t la, const T* b, size_t lb, Scratch& s) {
  if (la == 0 && lb == 0) return 1.0;
  if (la == 0 || lb == 0) return 0.0;
  const size_t window = std::max(la, lb) / 2 > 0 ? std::max(la, lb) / 2 - 1 : 0;
  uint8_t stack[256];
  uint8_t* fa;
  if (la + lb <= sizeof stack) {
    fa = stack;
  } else {
    if (s.flags.size() < la + lb) s.flags.resize(la + lb);
    fa = s.flags.data();
  }
  uint8_t* fb = fa + la;
  std::memset(fa, 0, la + lb);
  size_t matches = 0;
  for (size_t i = 0; i < la; ++i) {
    const size_t lo = i > window ? i - window : 0;
    const size_t hi = std::min(lb, i + window + 1);
    for (size_t j = lo; j < hi; ++j) {
      if (!fb[j] && a[i] == b[j]) {
        fa[i] = fb[j] = 1;
        ++matches;
        break;
      }
    }
  }
  if (matches == 0) return 0.0;
  size_t transpositions = 0;
  for (size_t i = 0, j = 0; i < la; ++i) {
    if (!fa[i]) continue;
    while (!fb[j]) ++j;
    if (a[i] != b[j]) ++transpositions;
    ++j;
  }
  const double m = static_cast<double>(matches);
  return (m / la + m / lb + (m - transpositions / 2.0) / m) / 3.0;
}

template <typename T>
double JaroWinklerKernel(const T* a, size_t la, const T* b, size_t lb, Scratch& s) {
  double jaro = JaroKernel(a, la, b, lb, s);
  if (jaro <= 0.7) return jaro;
  size_t prefix = 0;
  const size_t most = std::min<size_t>({4, la, lb});
  while (prefix < most && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

// Two-row (three with transpositions) dynamic programme over b.
template <typename T>
int EditKernel(const T* a, size_t la, const T* b, size_t lb, bool transpose, Scratch& s) {
  if (la == 0) return static_cast<int>(lb);
  if (lb == 0) return static_cast<int>(la);
  int stack[3][130];
  int *prev2, *prev, *cur;
  if (lb + 1 <= 130) {
    prev2 = stack[0];
    prev = stack[1];
    cur = stack[2];
  } else {
    s.row0.resize(lb + 1);
    s.row1.resize(lb + 1);
    s.row2.resize(lb + 1);
    prev2 = s.row0.data();
    prev = s.row1.data();
    cur = s.row2.data();
  }
  for (size_t j = 0; j <= lb; ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= la; ++i) {
    cur[0] = static_cast<int>(i);
    const T ca = a[i - 1];
    for (size_t j = 1; j <= lb; ++j) {
      const int cost = ca == b[j - 1] ? 0 : 1;
      int v = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (transpose && i > 1 && j > 1 && ca == b[j - 2] && a[i - 2] == b[j - 1]) {
        v = std::min(v, prev2[j - 2] + 1);
      }
      cur[j] = v;
    }
    int* t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb];
}

// Bit-parallel kernels for texts of at most 64 bytes (one bit per position).
// Only the bytes present in the two texts are touched in the 256-entry
// position tables, so nothing is cleared per call and nothing allocated.
constexpr size_t kWord = 64;

// Jaro as JaroKernel computes it (each character of `a`, in order, takes the
// first unmatched equal character of `b` within the window), one word
// operation per character of `a`.
double JaroBits(const unsigned char* a, size_t la, const unsigned char* b, size_t lb) {
  if (la == 0 && lb == 0) return 1.0;
  if (la == 0 || lb == 0) return 0.0;
  const size_t window = std::max(la, lb) / 2 > 0 ? std::max(la, lb) / 2 - 1 : 0;
  uint64_t positions[256];
  for (size_t i = 0; i < la; ++i) positions[a[i]] = 0;
  for (size_t j = 0; j < lb; ++j) positions[b[j]] = 0;
  for (size_t j = 0; j < lb; ++j) positions[b[j]] |= uint64_t{1} << j;
  uint64_t fa = 0, fb = 0;
  size_t matches = 0;
  for (size_t i = 0; i < la; ++i) {
    const size_t lo = i > window ? i - window : 0;
    const size_t hi = std::min(lb, i + window + 1);
    if (lo >= hi) break;  // later characters are further out of reach
    const uint64_t range =
        (hi == kWord ? ~uint64_t{0} : (uint64_t{1} << hi) - 1) & ~((uint64_t{1} << lo) - 1);
    const uint64_t free = positions[a[i]] & range & ~fb;
    if (free != 0) {
      fb |= free & (~free + 1);
      fa |= uint64_t{1} << i;
      ++matches;
    }
  }
  if (matches == 0) return 0.0;
  size_t transpositions = 0;
  for (uint64_t x = fa, y = fb; x != 0; x &= x - 1, y &= y - 1) {
    transpositions += a[__builtin_ctzll(x)] != b[__builtin_ctzll(y)];
  }
  const double m = static_cast<double>(matches);
  return (m / la + m / lb + (m - transpositions / 2.0) / m) / 3.0;
}

double JaroWinklerBits(const unsigned char* a, size_t la, const unsigned char* b, size_t lb) {
  double jaro = JaroBits(a, la, b, lb);
  if (jaro <= 0.7) return jaro;
  size_t prefix = 0;
  const size_t most = std::min<size_t>({4, la, lb});
  while (prefix < most && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

// Edit distance by Myers' (1999) bit-vector algorithm in Hyyro's
// formulation, `a` the pattern (la <= 64); with `transpose`, Hyyro's (2003)
// extension to optimal string alignment. Equal to EditKernel.
int EditBits(const unsigned char* a, size_t la, const unsigned char* b, size_t lb, bool transpose) {
  if (la == 0) return static_cast<int>(lb);
  if (lb == 0) return static_cast<int>(la);
  uint64_t peq[256];
  for (size_t j = 0; j < lb; ++j) peq[b[j]] = 0;
  for (size_t i = 0; i < la; ++i) peq[a[i]] = 0;
  for (size_t i = 0; i < la; ++i) peq[a[i]] |= uint64_t{1} << i;
  const uint64_t last = uint64_t{1} << (la - 1);
  uint64_t vp = ~uint64_t{0}, vn = 0, d0 = 0, pm_old = 0;
  int dist = static_cast<int>(la);
  for (size_t j = 0; j < lb; ++j) {
    const uint64_t pm = peq[b[j]];
    // Transpositions read the previous column's diagonal (d0 before update).
    const uint64_t tr = transpose ? (((~d0) & pm) << 1) & pm_old : 0;
    d0 = (((pm & vp) + vp) ^ vp) | pm | vn | tr;
    pm_old = pm;
    uint64_t hp = vn | ~(d0 | vp);
    const uint64_t hn = d0 & vp;
    dist += (hp & last) != 0;
    dist -= (hn & last) != 0;
    hp = (hp << 1) | 1;
    vp = (hn << 1) | ~(d0 | hp);
    vn = d0 & hp;
  }
  return dist;
}

// Runs `kernel` on bytes when both texts are ASCII, else on code points.
template <typename Kernel>
auto Dispatch(std::string_view a, std::string_view b, Kernel kernel) {
  Scratch& s = ThreadScratch();
  if (IsAscii(a) && IsAscii(b)) {
    return kernel(reinterpret_cast<const unsigned char*>(a.data()), a.size(),
                  reinterpret_cast<const unsigned char*>(b.data()), b.size(), s);
  }
  Decode(a, &s.a);
  Decode(b, &s.b);
  return kernel(s.a.data(), s.a.size(), s.b.data(), s.b.size(), s);
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsTokenByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

// Up to kMaxTokens tokens of `s`, sorted and unique; later tokens are
// ignored (names and addresses have a handful).
constexpr size_t kMaxTokens = 32;
size_t Tokens(std::string_view s, std::string_view* out) {
  size_t n = 0;
  size_t i = 0;
  while (i < s.size() && n < kMaxTokens) {
    while (i < s.size() && !IsTokenByte(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && IsTokenByte(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out[n++] = s.substr(start, i - start);
  }
  std::sort(out, out + n);
  return static_cast<size_t>(std::unique(out, out + n) - out);
}

char SoundexCode(char c) {
  switch (c) {
    case 'b':
    case 'f':
    case 'p':
    case 'v':
      return '1';
    case 'c':
    case 'g':
    case 'j':
    case 'k':
    case 'q':
    case 's':
    case 'x':
    case 'z':
      return '2';
    case 'd':
    case 't':
      return '3';
    case 'l':
      return '4';
    case 'm':
    case 'n':
      return '5';
    case 'r':
      return '6';
    case 'h':
    case 'w':
      return 'h';  // transparent: letters either side with one code count once
    default:
      return '0';  // vowels (and y) separate equal codes
  }
}

}  // namespace

double Jaro(std::string_view a, std::string_view b) {
  if (a == b) return 1.0;
  if (a.size() <= kWord && b.size() <= kWord && IsAscii(a) && IsAscii(b)) {
    return JaroBits(Bytes(a), a.size(), Bytes(b), b.size());
  }
  return Dispatch(a, b, [](auto* x, size_t lx, auto* y, size_t ly, Scratch& s) {
    return JaroKernel(x, lx, y, ly, s);
  });
}

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a == b) return 1.0;
  if (a.size() <= kWord && b.size() <= kWord && IsAscii(a) && IsAscii(b)) {
    return JaroWinklerBits(Bytes(a), a.size(), Bytes(b), b.size());
  }
  return Dispatch(a, b, [](auto* x, size_t lx, auto* y, size_t ly, Scratch& s) {
    return JaroWinklerKernel(x, lx, y, ly, s);
  });
}

int Levenshtein(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  if (a.size() <= kWord && IsAscii(a) && IsAscii(b)) {
    return EditBits(Bytes(a), a.size(), Bytes(b), b.size(), false);
  }
  return Dispatch(a, b, [](auto* x, size_t lx, auto* y, size_t ly, Scratch& s) {
    return EditKernel(x, lx, y, ly, false, s);
  });
}

int DamerauLevenshtein(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  if (a.size() <= kWord && IsAscii(a) && IsAscii(b)) {
    return EditBits(Bytes(a), a.size(), Bytes(b), b.size(), true);
  }
  return Dispatch(a, b, [](auto* x, size_t lx, auto* y, size_t ly, Scratch& s) {
    return EditKernel(x, lx, y, ly, true, s);
  });
}

double JaroWinklerAscii(std::string_view a, std::string_view b) {
  if (a == b) return 1.0;
  if (a.size() <= kWord && b.size() <= kWord) {
    return JaroWinklerBits(Bytes(a), a.size(), Bytes(b), b.size());
  }
  return JaroWinklerKernel(Bytes(a), a.size(), Bytes(b), b.size(), ThreadScratch());
}

int LevenshteinAscii(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  if (a.size() <= kWord) return EditBits(Bytes(a), a.size(), Bytes(b), b.size(), false);
  return EditKernel(Bytes(a), a.size(), Bytes(b), b.size(), false, ThreadScratch());
}

int DamerauLevenshteinAscii(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  if (a.size() <= kWord) return EditBits(Bytes(a), a.size(), Bytes(b), b.size(), true);
  return EditKernel(Bytes(a), a.size(), Bytes(b), b.size(), true, ThreadScratch());
}

double LevenshteinSimilarity(std::string_view a, std::string_view b) {
  if (a == b) return 1.0;
  const size_t longer = std::max(CodePoints(a), CodePoints(b));
  return 1.0 - static_cast<double>(Levenshtein(a, b)) / static_cast<double>(longer);
}

double DamerauLevenshteinSimilarity(std::string_view a, std::string_view b) {
  if (a == b) return 1.0;
  const size_t longer = std::max(CodePoints(a), CodePoints(b));
  return 1.0 - static_cast<double>(DamerauLevenshtein(a, b)) / static_cast<double>(longer);
}

double TokenSetSimilarity(std::string_view a, std::string_view b) {
  std::string_view ta[kMaxTokens], tb[kMaxTokens];
  const size_t na = Tokens(a, ta), nb = Tokens(b, tb);
  if (na == 0 && nb == 0) return 1.0;
  size_t common = 0;
  for (size_t i = 0, j = 0; i < na && j < nb;) {
    if (ta[i] == tb[j]) {
      ++common;
      ++i;
      ++j;
    } else if (ta[i] < tb[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return static_cast<double>(common) / static_cast<double>(na + nb - common);
}

bool Soundex(std::string_view s, char out[5]) {
  size_t n = 0;
  char last = 0;
  for (char raw : s) {
    char c = raw >= 'A' && raw <= 'Z' ? static_cast<char>(raw - 'A' + 'a') : raw;
    if (c < 'a' || c > 'z') continue;
    const char code = SoundexCode(c);
    if (n == 0) {
      out[n++] = static_cast<char>(c - 'a' + 'A');
      last = code;
      continue;
    }
    if (code == 'h') continue;
    if (code != '0' && code != last) {
      out[n++] = code;
      if (n == 4) break;
    }
    last = code;
  }
  if (n == 0) {
    out[0] = '\0';
    return false;
  }
  while (n < 4) out[n++] = '0';
  out[4] = '\0';
  return true;
}

std::string Soundex(std::string_view s) {
  char code[5];
  Soundex(s, code);
  return code;
}

void FoldText(std::string_view in, std::string* out) {
  const size_t start = out->size();
  bool space = true;  // at the start: drop leading separators
  auto put = [&](std::string_view piece) {
    for (char c : piece) {
      if (c == ' ') {
        if (!space) out->push_back(' ');
        space = true;
      } else {
        out->push_back(c);
        space = false;
      }
    }
  };
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* end = p + in.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') {
        char l = static_cast<char>(c - 'A' + 'a');
        put(std::string_view(&l, 1));
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        put(std::string_view(reinterpret_cast<const char*>(p), 1));
      } else {
        put(" ");
      }
      ++p;
      continue;
    }
    // Two-byte sequences cover U+0080..U+07FF, which holds the fold table.
    if ((c & 0xE0) == 0xC0 && p + 1 < end && (p[1] & 0xC0) == 0x80) {
      const char32_t cp = ((c & 0x1F) << 6) | (p[1] & 0x3F);
      if (cp >= 0xC0 && cp < 0x180 && kFold[cp - 0xC0][0] != '?') {
        put(kFold[cp - 0xC0]);
        p += 2;
        continue;
      }
      if (cp == 0xA0) {  // no-break space
        put(" ");
        p += 2;
        continue;
      }
    }
    // Anything else is kept byte for byte, as part of a word.
    out->push_back(static_cast<char>(c));
    space = false;
    ++p;
  }
  if (out->size() > start && out->back() == ' ') out->pop_back();
}

namespace reference {

double Jaro(std::string_view a, std::string_view b) {
  Scratch& s = ThreadScratch();
  Decode(a, &s.a);
  Decode(b, &s.b);
  return JaroKernel(s.a.data(), s.a.size(), s.b.data(), s.b.size(), s);
}

int Levenshtein(std::string_view a, std::string_view b) {
  Scratch& s = ThreadScratch();
  Decode(a, &s.a);
  Decode(b, &s.b);
  return EditKernel(s.a.data(), s.a.size(), s.b.data(), s.b.size(), false, s);
}

int DamerauLevenshtein(std::string_view a, std::string_view b) {
  Scratch& s = ThreadScratch();
  Decode(a, &s.a);
  Decode(b, &s.b);
  return EditKernel(s.a.data(), s.a.size(), s.b.data(), s.b.size(), true, s);
}

}  // namespace reference

uint64_t AbsDifference(int64_t a, int64_t b) {
  return a >= b ? static_cast<uint64_t>(a) - static_cast<uint64_t>(b)
                : static_cast<uint64_t>(b) - static_cast<uint64_t>(a);
}

}  // namespace sluice::similarity
