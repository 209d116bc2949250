#include "deduper/person_compare.h"

#include <gtest/gtest.h>

namespace sluice::compare {
namespace {

// Levels with thresholds {0.92, 0.8}: 1 alias, 2 part, 3 jw>=0.92, 4
// jw>=0.8, 5 crosswise, 6 initial, 7 else.
int Name(std::string_view a, std::string_view b, std::string_view a_with = "",
         std::string_view b_with = "") {
  return NameLevel(a, b, a_with, b_with, {0.92, 0.8}, NameAliases::Default());
}

TEST(NameLevel, NicknamesOfTheShippedTable) {
  EXPECT_EQ(Name("jim", "james"), 1);
  EXPECT_EQ(Name("pat", "patricia"), 1);
  EXPECT_EQ(Name("kasia", "katarzyna"), 1);
  EXPECT_EQ(Name("peppe", "giuseppe"), 1);
  EXPECT_EQ(Name("alex", "alexandra"), 1);  // one name, several groups
  EXPECT_FALSE(NameAliases::Default().Same("jim", "patricia"));
  EXPECT_GT(NameAliases::Default().groups(), 100u);
}

TEST(NameLevel, CompoundSurnamesCutShort) {
  EXPECT_EQ(Name("delle", "delle monache"), 2);  // cut to the particle
  EXPECT_EQ(Name("saez", "saenz montenegro"), 2);
  EXPECT_EQ(Name("monache", "delle monache"), 2);
  EXPECT_EQ(Name("van der berg", "berg"), 2);
  EXPECT_NE(Name("de", "delle monache"), 2);  // another particle
  EXPECT_NE(Name("rossi", "delle monache"), 2);
}

TEST(NameLevel, SimilarityCrosswiseAndInitials) {
  EXPECT_EQ(Name("martha", "marhta"), 3);
  EXPECT_EQ(Name("dwayne", "duane"), 4);
  // "Canale, Mafalda" against "Mafalda / Canlae" (first and last swapped,
  // with a typo): the last names compared crosswise.
  EXPECT_EQ(Name("canale", "mafalda", "mafalda", "canlae"), 5);
  EXPECT_EQ(Name("canale", "mafalda", "mafalda", ""), 7);  // no other field: no crosswise
  // One side of the swap exact, the other an initial or alike at the last
  // threshold only (jw("giulia", "gulia") = 0.89): still a swap.
  EXPECT_EQ(Name("mimmo", "rossi", "rossi", "m"), 5);
  EXPECT_EQ(Name("rossi", "m", "mimmo", "rossi"), 5);  // seen from the last name
  EXPECT_EQ(Name("zavalri", "gulia", "giulia", "zavalri"), 5);
  // Both sides weak is no swap: neither an initial against a typo.
  EXPECT_EQ(Name("m", "gulia", "giulia", "mimmo"), 7);
  EXPECT_EQ(Name("pierre", "durand", "marc", "martin"), 7);
  EXPECT_EQ(Name("j", "jean"), 6);
  EXPECT_EQ(Name("j", "pierre"), 7);
}

TEST(NameLevel, LabelsFollowTheLevels) {
  DedupComparison c;
  c.comparator = "name";
  c.thresholds = {0.92, 0.8};
  const std::vector<std::string> labels = PersonLevelLabels(c);
  ASSERT_EQ(labels.size(), c.LevelCount());
  EXPECT_EQ(labels[5], "crosswise");
  c.comparator = "identifier";
  c.thresholds.clear();
  EXPECT_EQ(PersonLevelLabels(c).size(), c.LevelCount());
  c.checksum = "luhn";
  EXPECT_EQ(PersonLevelLabels(c).size(), c.LevelCount());
  EXPECT_EQ(PersonLevelLabels(c)[4], "different luhn");
}

TEST(NameAliases, AddsAPlansGroupsAndNamesABadLine) {
  NameAliases a;
  ASSERT_TRUE(a.Add("# mine\nnl,johannes,hans;jan\n", "aliases.csv").ok());
  EXPECT_TRUE(a.Same("hans", "jan"));
  Status bad = a.Add("nl johannes\n", "aliases.csv");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("aliases.csv:1"), std::string::npos);
}

TEST(Identifier, DigitErrorLevels) {
  // Levels: 1 "1 digit", 2 "transposed", 3 "2 digits", 4 else.
  EXPECT_EQ(IdentifierLevel("12345678903", "12345678913", ""), 1);
  EXPECT_EQ(IdentifierLevel("12345678903", "12345687903", ""), 2);
  EXPECT_EQ(IdentifierLevel("12345678903", "12345687913", ""), 3);  // a swap and a digit
  EXPECT_EQ(IdentifierLevel("12345678903", "12345670913", ""), 3);  // two digits
  EXPECT_EQ(IdentifierLevel("12345678903", "98765432103", ""), 4);
}

TEST(Identifier, ChecksumsAndTwoValidIds) {
  EXPECT_TRUE(PassesChecksum("79927398713", "luhn"));  // the textbook example
  EXPECT_FALSE(PassesChecksum("79927398710", "luhn"));
  // NIR: 13 digits and the key 97 - n mod 97; Corsica's 2A counts as 19.
  EXPECT_TRUE(PassesChecksum("255081416802538", "nir"));
  EXPECT_FALSE(PassesChecksum("255081416802539", "nir"));
  EXPECT_TRUE(PassesChecksum("185072a01202345", "nir"));
  // Two Luhn-valid ids that differ are different people: level "different"
  // (4), even one transposition apart; a typo of a valid id is not valid.
  EXPECT_EQ(IdentifierLevel("79927398713", "79927398721", "luhn"), 4);
  EXPECT_EQ(IdentifierLevel("79927398713", "79927398710", "luhn"), 1);
  EXPECT_EQ(IdentifierLevel("79927398713", "11111111111", "luhn"), 5);
}

TEST(PhoneKey, EveryFormGivesTheNationalSignificantNumber) {
  EXPECT_EQ(PhoneKey("04 43 78 73 64"), "443787364");
  EXPECT_EQ(PhoneKey("+33443787364"), "443787364");
  EXPECT_EQ(PhoneKey("0033 4 43 78 73 64"), "443787364");
  EXPECT_EQ(PhoneKey("+33 (0)4 43 78 73 64"), PhoneKey("+33443787364"));
  // Italy keeps its leading zero in the NSN: the key drops it either way.
  EXPECT_EQ(PhoneKey("+39 06 1234 5678"), PhoneKey("06 1234 5678"));
  EXPECT_EQ(PhoneKey("0048 22 123 45 67"), "221234567");
  EXPECT_EQ(PhoneKey("not a number"), "");    // never rejects: no key, no block
  EXPECT_EQ(PhoneKey("+999 123"), "999123");  // unparseable: its digits
}

}  // namespace
}  // namespace sluice::compare
