#include "deduper/metaphone.h"

#include <initializer_list>

namespace sluice::similarity {
namespace {

// The word being coded, upper-cased, with the two codes built so far. Reads
// outside the word see spaces after it and nothing before it, as in Philips'
// implementation (which pads the word with spaces).
class Coder {
 public:
  explicit Coder(std::string_view text) {
    word_.reserve(text.size());
    for (char c : text)
      word_.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    length_ = static_cast<int>(word_.size());
    last_ = length_ - 1;
    slavo_germanic_ = word_.find('W') != std::string::npos ||
                      word_.find('K') != std::string::npos ||
                      word_.find("CZ") != std::string::npos;  // also covers "WITZ"
  }

  MetaphoneCodes Run(size_t max_length);

 private:
  char At(int i) const {
    if (i < 0) return '\0';
    return i < length_ ? word_[i] : ' ';
  }
  // The position after the letter at `at`, and after its double ("BB", "NN")
  // too: a doubled consonant codes once.
  int PastDouble(int at) const { return at + (At(at + 1) == At(at) ? 2 : 1); }
  bool IsVowel(int i) const {
    if (i < 0 || i >= length_) return false;
    switch (word_[i]) {
      case 'A':
      case 'E':
      case 'I':
      case 'O':
      case 'U':
      case 'Y':
        return true;
      default:
        return false;
    }
  }
  // Whether one of `options` (all of the same length) starts at `i`.
  bool Is(int i, std::initializer_list<std::string_view> options) const {
    if (i < 0) return false;
    for (std::string_view o : options) {
      bool same = true;
      for (size_t k = 0; k < o.size() && same; ++k) same = At(i + static_cast<int>(k)) == o[k];
      if (same) return true;
    }
    return false;
  }
  // Appends to both codes.
  void Add(std::string_view both) {
    primary_ += both;
    alternate_ += both;
  }
  // Appends `main` to the primary and `alt` to the alternate code ("" adds
  // nothing to that code).
  void Add(std::string_view main, std::string_view alt) {
    primary_ += main;
    alternate_ += alt;
  }

  int C(int at);
  int G(int at);
  int J(int at);
  int L(int at);
  int S(int at);
  int T(int at);
  int W(int at);

  std::string word_;
  int length_ = 0, last_ = -1;
  bool slavo_germanic_ = false;
  std::string primary_, alternate_;
};

MetaphoneCodes Coder::Run(size_t max_length) {
  const size_t limit = max_length == 0 ? std::string::npos : max_length;
  int at = 0;
  // Silent first letters.
  if (Is(0, {"GN", "KN", "PN", "WR", "PS"})) at = 1;
  // An initial X sounds S ("Xavier").
  if (At(0) == 'X') {
    Add("S");
    at = 1;
  }
  while ((primary_.size() < limit || alternate_.size() < limit) && at < length_) {
    const char c = At(at);
    switch (c) {
      case 'A':
      case 'E':
      case 'I':
      case 'O':
      case 'U':
      case 'Y':
        if (at == 0) Add("A");  // only an initial vowel is coded
        at += 1;
        break;
      case 'B':
        Add("P");
        at = PastDouble(at);
        break;
      case 'C':
        at = C(at);
        break;
      case 'D':
        if (Is(at, {"DG"})) {
          if (Is(at + 2, {"I", "E", "Y"})) {  // "edge"
            Add("J");
            at += 3;
          } else {  // "edgar"
            Add("TK");
            at += 2;
          }
        } else {
          Add("T");
          at += Is(at, {"DT", "DD"}) ? 2 : 1;
        }
        break;
      case 'F':
      case 'K':
      case 'N':
        Add(std::string_view(c == 'F' ? "F" : c == 'K' ? "K" : "N"));
        at = PastDouble(at);
        break;
      case 'G':
        at = G(at);
        break;
      case 'H':
        // Kept only first or between vowels, and before a vowel.
        if ((at == 0 || IsVowel(at - 1)) && IsVowel(at + 1)) {
          Add("H");
          at += 2;
        } else {
          at += 1;
        }
        break;
      case 'J':
        at = J(at);
        break;
      case 'L':
        at = L(at);
        break;
      case 'M':
        // A silent B after M ("dumb", "thumb", "plumber") is skipped with it.
        Add("M");
        at += (Is(at - 1, {"UMB"}) && (at + 1 == last_ || Is(at + 2, {"ER"}))) || At(at + 1) == 'M'
                  ? 2
                  : 1;
        break;
      case 'P':
        if (At(at + 1) == 'H') {
          Add("F");
          at += 2;
        } else {
          Add("P");
          at += Is(at + 1, {"P", "B"}) ? 2 : 1;  // "campbell", "raspberry"
        }
        break;
      case 'Q':
        Add("K");
        at = PastDouble(at);
        break;
      case 'R':
        // French final R after IE ("rogier"), but not "hochmeier".
        if (at == last_ && !slavo_germanic_ && Is(at - 2, {"IE"}) && !Is(at - 4, {"ME", "MA"})) {
          Add("", "R");
        } else {
          Add("R");
        }
        at = PastDouble(at);
        break;
      case 'S':
        at = S(at);
        break;
      case 'T':
        at = T(at);
        break;
      case 'V':
        Add("F");
        at = PastDouble(at);
        break;
      case 'W':
        at = W(at);
        break;
      case 'X':
        // Silent in French endings ("breaux").
        if (!(at == last_ && (Is(at - 3, {"IAU", "EAU"}) || Is(at - 2, {"AU", "OU"})))) Add("KS");
        at += Is(at + 1, {"C", "X"}) ? 2 : 1;
        break;
      case 'Z':
        if (At(at + 1) == 'H') {  // Chinese pinyin "zhao"
          Add("J");
          at += 2;
          break;
        }
        if (Is(at + 1, {"ZO", "ZI", "ZA"}) || (slavo_germanic_ && at > 0 && At(at - 1) != 'T')) {
          Add("S", "TS");
        } else {
          Add("S");
        }
        at = PastDouble(at);
        break;
      default:  // digits, spaces, anything else
        at += 1;
    }
  }
  MetaphoneCodes codes{primary_.substr(0, limit), alternate_.substr(0, limit)};
  return codes;
}

int Coder::C(int at) {
  // Germanic "ach" ("bacher", "macher"), not before I or E.
  if (at > 1 && !IsVowel(at - 2) && Is(at - 1, {"ACH"}) && At(at + 2) != 'I' &&
      (At(at + 2) != 'E' || Is(at - 2, {"BACHER", "MACHER"}))) {
    Add("K");
    return at + 2;
  }
  if (at == 0 && Is(at, {"CAESAR"})) {
    Add("S");
    return at + 2;
  }
  if (Is(at, {"CHIA"})) {  // Italian "chianti"
    Add("K");
    return at + 2;
  }
  if (Is(at, {"CH"})) {
    if (at > 0 && Is(at, {"CHAE"})) {  // "michael"
      Add("K", "X");
      return at + 2;
    }
    // Greek roots at the start: "chemistry", "chorus", but not "chore".
    if (at == 0 && (Is(at + 1, {"HARAC", "HARIS"}) || Is(at + 1, {"HOR", "HYM", "HIA", "HEM"})) &&
        !Is(0, {"CHORE"})) {
      Add("K");
      return at + 2;
    }
    // Germanic or Greek CH sounding K: "van ch..", "sch..", "orchestra",
    // "architect" (not "arch"), before T or S, or after a vowel (or first)
    // and before a consonant sound ("wachtler", "wechsler", not "tichner").
    if (Is(0, {"VAN ", "VON "}) || Is(0, {"SCH"}) || Is(at - 2, {"ORCHES", "ARCHIT", "ORCHID"}) ||
        Is(at + 2, {"T", "S"}) ||
        ((Is(at - 1, {"A", "O", "U", "E"}) || at == 0) &&
         Is(at + 2, {"L", "R", "N", "M", "B", "H", "F", "V", "W", " "}))) {
      Add("K");
    } else if (at > 0) {
      if (Is(0, {"MC"})) {  // "McHugh"
        Add("K");
      } else {
        Add("X", "K");
      }
    } else {
      Add("X");
    }
    return at + 2;
  }
  if (Is(at, {"CZ"}) && !Is(at - 2, {"WICZ"})) {  // "czerny"
    Add("S", "X");
    return at + 2;
  }
  if (Is(at + 1, {"CIA"})) {  // "focaccia"
    Add("X");
    return at + 3;
  }
  // Double C, but not "McClellan".
  if (Is(at, {"CC"}) && !(at == 1 && At(0) == 'M')) {
    // "bellocchio", but not "bacchus".
    if (Is(at + 2, {"I", "E", "H"}) && !Is(at + 2, {"HU"})) {
      if ((at == 1 && At(at - 1) == 'A') || Is(at - 1, {"UCCEE", "UCCES"})) {
        Add("KS");  // "accident", "accede", "succeed"
      } else {
        Add("X");  // "bacci", "bertucci"
      }
      return at + 3;
    }
    Add("K");  // Pierce's rule
    return at + 2;
  }
  if (Is(at, {"CK", "CG", "CQ"})) {
    Add("K");
    return at + 2;
  }
  if (Is(at, {"CI", "CE", "CY"})) {
    if (Is(at, {"CIO", "CIE", "CIA"})) {  // Italian against English
      Add("S", "X");
    } else {
      Add("S");
    }
    return at + 2;
  }
  Add("K");
  if (Is(at + 1, {" C", " Q", " G"})) return at + 3;  // "mac caffrey", "mac gregor"
  if (Is(at + 1, {"C", "K", "Q"}) && !Is(at + 1, {"CE", "CI"})) return at + 2;
  return at + 1;
}

int Coder::G(int at) {
  if (At(at + 1) == 'H') {
    if (at > 0 && !IsVowel(at - 1)) {
      Add("K");
      return at + 2;
    }
    if (at == 0) {  // "ghislane", "ghiradelli"
      Add(At(at + 2) == 'I' ? "J" : "K");
      return at + 2;
    }
    // Parker's rule: silent after B, H or D a few letters back ("hugh",
    // "bough", "broughton").
    if ((at > 1 && Is(at - 2, {"B", "H", "D"})) || (at > 2 && Is(at - 3, {"B", "H", "D"})) ||
        (at > 3 && Is(at - 4, {"B", "H"}))) {
      return at + 2;
    }
    // "laugh", "McLaughlin", "cough", "gough", "rough", "tough".
    if (at > 2 && At(at - 1) == 'U' && Is(at - 3, {"C", "G", "L", "R", "T"})) {
      Add("F");
    } else if (at > 0 && At(at - 1) != 'I') {
      Add("K");
    }
    return at + 2;
  }
  if (At(at + 1) == 'N') {
    if (at == 1 && IsVowel(0) && !slavo_germanic_) {
      Add("KN", "N");
    } else if (!Is(at + 2, {"EY"}) && At(at + 1) != 'Y' && !slavo_germanic_) {
      Add("N", "KN");  // not "cagney"
    } else {
      Add("KN");
    }
    return at + 2;
  }
  if (Is(at + 1, {"LI"}) && !slavo_germanic_) {  // "tagliaro"
    Add("KL", "L");
    return at + 2;
  }
  // -ges-, -gep-, -gel-, -gie- at the start.
  if (at == 0 && (At(at + 1) == 'Y' ||
                  Is(at + 1, {"ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER"}))) {
    Add("K", "J");
    return at + 2;
  }
  // -ger-, -gy-.
  if ((Is(at + 1, {"ER"}) || At(at + 1) == 'Y') && !Is(0, {"DANGER", "RANGER", "MANGER"}) &&
      !Is(at - 1, {"E", "I"}) && !Is(at - 1, {"RGY", "OGY"})) {
    Add("K", "J");
    return at + 2;
  }
  // Italian "biaggi".
  if (Is(at + 1, {"E", "I", "Y"}) || Is(at - 1, {"AGGI", "OGGI"})) {
    if (Is(0, {"VAN ", "VON "}) || Is(0, {"SCH"}) || Is(at + 1, {"ET"})) {
      Add("K");  // obviously Germanic
    } else if (Is(at + 1, {"IER "})) {
      Add("J");  // always soft in a French ending
    } else {
      Add("J", "K");
    }
    return at + 2;
  }
  Add("K");
  return at + (At(at + 1) == 'G' ? 2 : 1);
}

int Coder::J(int at) {
  // Spanish "jose", "san jacinto".
  if (Is(at, {"JOSE"}) || Is(0, {"SAN "})) {
    if ((at == 0 && At(at + 4) == ' ') || Is(0, {"SAN "})) {
      Add("H");
    } else {
      Add("J", "H");
    }
    return at + 1;
  }
  if (at == 0 && !Is(at, {"JOSE"})) {
    Add("J", "A");  // Yankelovich / Jankelowicz
  } else if (IsVowel(at - 1) && !slavo_germanic_ && (At(at + 1) == 'A' || At(at + 1) == 'O')) {
    Add("J", "H");  // Spanish "bajador"
  } else if (at == last_) {
    Add("J", "");
  } else if (!Is(at + 1, {"L", "T", "K", "S", "N", "M", "B", "Z"}) &&
             !Is(at - 1, {"S", "K", "L"})) {
    Add("J");
  }
  return at + (At(at + 1) == 'J' ? 2 : 1);
}

int Coder::L(int at) {
  if (At(at + 1) != 'L') {
    Add("L");
    return at + 1;
  }
  // Spanish "cabrillo", "gallegos": silent in the alternate.
  if ((at == length_ - 3 && Is(at - 1, {"ILLO", "ILLA", "ALLE"})) ||
      ((Is(last_ - 1, {"AS", "OS"}) || Is(last_, {"A", "O"})) && Is(at - 1, {"ALLE"}))) {
    Add("L", "");
    return at + 2;
  }
  Add("L");
  return at + 2;
}

int Coder::S(int at) {
  if (Is(at - 1, {"ISL", "YSL"})) return at + 1;  // "island", "isle", "carlisle"
  if (at == 0 && Is(at, {"SUGAR"})) {
    Add("X", "S");
    return at + 1;
  }
  if (Is(at, {"SH"})) {
    // Germanic "-sheim", "-shoek", "-sholm", "-sholz".
    Add(Is(at + 1, {"HEIM", "HOEK", "HOLM", "HOLZ"}) ? "S" : "X");
    return at + 2;
  }
  if (Is(at, {"SIO", "SIA"}) || Is(at, {"SIAN"})) {  // Italian, Armenian
    if (slavo_germanic_) {
      Add("S");
    } else {
      Add("S", "X");
    }
    return at + 3;
  }
  // "smith" meets "schmidt", "snider" meets "schneider"; Slavic -sz-.
  if ((at == 0 && Is(at + 1, {"M", "N", "L", "W"})) || Is(at + 1, {"Z"})) {
    Add("S", "X");
    return at + (Is(at + 1, {"Z"}) ? 2 : 1);
  }
  if (Is(at, {"SC"})) {
    if (At(at + 2) == 'H') {                                   // Schlesinger's rule
      if (Is(at + 3, {"OO", "ER", "EN", "UY", "ED", "EM"})) {  // Dutch "school", "schooner"
        if (Is(at + 3, {"ER", "EN"})) {
          Add("X", "SK");  // "schermerhorn", "schenker"
        } else {
          Add("SK");
        }
        return at + 3;
      }
      if (at == 0 && !IsVowel(3) && At(3) != 'W') {
        Add("X", "S");
      } else {
        Add("X");
      }
      return at + 3;
    }
    Add(Is(at + 2, {"I", "E", "Y"}) ? "S" : "SK");
    return at + 3;
  }
  // French final S ("resnais", "artois").
  if (at == last_ && Is(at - 2, {"AI", "OI"})) {
    Add("", "S");
  } else {
    Add("S");
  }
  return at + (Is(at + 1, {"S", "Z"}) ? 2 : 1);
}

int Coder::T(int at) {
  if (Is(at, {"TION"})) {
    Add("X");
    return at + 3;
  }
  if (Is(at, {"TIA", "TCH"})) {
    Add("X");
    return at + 3;
  }
  if (Is(at, {"TH"}) || Is(at, {"TTH"})) {
    // "thomas", "thames", or Germanic.
    if (Is(at + 2, {"OM", "AM"}) || Is(0, {"VAN ", "VON "}) || Is(0, {"SCH"})) {
      Add("T");
    } else {
      Add("0", "T");
    }
    return at + 2;
  }
  Add("T");
  return at + (Is(at + 1, {"T", "D"}) ? 2 : 1);
}

int Coder::W(int at) {
  if (Is(at, {"WR"})) {
    Add("R");
    return at + 2;
  }
  if (at == 0 && (IsVowel(at + 1) || Is(at, {"WH"}))) {
    if (IsVowel(at + 1)) {
      Add("A", "F");  // "Wasserman" meets "Vasserman"
    } else {
      Add("A");  // "Uomo" meets "Womo"
    }
  }
  // "Arnow" meets "Arnoff"; Polish -ewski.
  if ((at == last_ && IsVowel(at - 1)) || Is(at - 1, {"EWSKI", "EWSKY", "OWSKI", "OWSKY"}) ||
      Is(0, {"SCH"})) {
    Add("", "F");
    return at + 1;
  }
  if (Is(at, {"WICZ", "WITZ"})) {  // Polish "filipowicz"
    Add("TS", "FX");
    return at + 4;
  }
  return at + 1;
}

}  // namespace

MetaphoneCodes DoubleMetaphone(std::string_view text, size_t max_length) {
  return Coder(text).Run(max_length);
}

}  // namespace sluice::similarity
