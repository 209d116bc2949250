// Double Metaphone (Lawrence Philips, "The Double Metaphone Search
// Algorithm", C/C++ Users Journal, June 2000): a primary and an alternate
// phonetic code per name, so that spellings of one name from several
// languages meet ("Smith" SM0/XMT and "Schmidt" XMT/SMT share XMT).
//
// Written here from the published rules. Letters are the ASCII ones: fold
// the text first (similarity::FoldText turns "José" into "jose", "Ç" into
// "c", "Ñ" into "n"); any other character is passed over. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::similarity {

struct MetaphoneCodes {
  std::string primary;
  // Equal to primary when the name has no second reading.
  std::string alternate;
};

// The codes of `text`, each cut to `max_length` characters (Philips' 4;
// 0: no limit). A text without letters gives two empty codes.
MetaphoneCodes DoubleMetaphone(std::string_view text, size_t max_length = 4);

}  // namespace sluice::similarity
