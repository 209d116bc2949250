// Unit tests of the text steps and the lineage codec; the golden cases in
// tests/data/transform cover the same steps through whole mappings.
#include "transformer/text_steps.h"

#include <gtest/gtest.h>

#include "common/audit/lineage.h"

namespace sluice {
namespace {

TEST(SplitPersonNameTest, BothOrders) {
  PersonName n = SplitPersonName("Dupont, Jean");
  EXPECT_EQ(n.last, "Dupont");
  EXPECT_EQ(n.first, "Jean");
  n = SplitPersonName(" de la Tour ,Anne Marie ");
  EXPECT_EQ(n.last, "de la Tour");
  EXPECT_EQ(n.first, "Anne Marie");
  n = SplitPersonName("Anne Marie Dupont");
  EXPECT_EQ(n.last, "Dupont");
  EXPECT_EQ(n.first, "Anne Marie");
  n = SplitPersonName("Dupont");
  EXPECT_EQ(n.last, "Dupont");
  EXPECT_EQ(n.first, "");
}

TEST(SplitPostalAddressTest, StreetPostcodeCity) {
  PostalAddress a;
  ASSERT_TRUE(SplitPostalAddress("12 rue de la Paix, 75002 Paris", &a));
  EXPECT_EQ(a.street, "12 rue de la Paix");
  EXPECT_EQ(a.postcode, "75002");
  EXPECT_EQ(a.city, "Paris");
  ASSERT_TRUE(SplitPostalAddress("Flat 2, 10 Downing St, SW1A 2AA London", &a));
  EXPECT_EQ(a.street, "Flat 2, 10 Downing St");
  EXPECT_EQ(a.postcode, "SW1A");
  EXPECT_FALSE(SplitPostalAddress("12 rue de la Paix 75002 Paris", &a));
  EXPECT_FALSE(SplitPostalAddress("12 rue de la Paix, Paris", &a));
}

TEST(SplitPieceTest, Pieces) {
  EXPECT_EQ(SplitPiece("a; b ;c", ";", 1), "b");
  EXPECT_EQ(SplitPiece("a;b", ";", 2), "");
}

TEST(NormalizeEmailTest, LowerCaseAndSyntax) {
  std::string out, why;
  EXPECT_TRUE(NormalizeEmail("Jean.Dupont@Example.FR", &out, &why));
  EXPECT_EQ(out, "jean.dupont@example.fr");
  for (const char* bad :
       {"jean", "a@b", "a@@b.fr", ".a@b.fr", "a..b@c.fr", "a b@c.fr", "a@-b.fr", "a@b..fr"}) {
    EXPECT_FALSE(NormalizeEmail(bad, &out, &why)) << bad;
  }
}

TEST(RegexExtractorTest, Groups) {
  auto x = RegexExtractor::Create("^RPPS-([0-9]+)$", -1);
  ASSERT_TRUE(x.ok());
  std::string_view out;
  ASSERT_TRUE((*x)->Extract("RPPS-123", &out));
  EXPECT_EQ(out, "123");
  EXPECT_FALSE((*x)->Extract("ADELI-123", &out));
  EXPECT_FALSE(RegexExtractor::Create("(", -1).ok());
  EXPECT_FALSE(RegexExtractor::Create("a(b)", 2).ok());
}

TEST(UnicodeFolderTest, MatchKeysMeet) {
  auto f = UnicodeFolder::Create("nfc", true);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  std::string a, b, c;
  ASSERT_TRUE((*f)->MatchKey("Müller", &a));
  ASSERT_TRUE((*f)->MatchKey("Muller", &b));
  ASSERT_TRUE((*f)->MatchKey("MUELLER", &c));
  EXPECT_EQ(a, "muller");
  EXPECT_EQ(b, "muller");
  EXPECT_EQ(c, "muller");
  ASSERT_TRUE((*f)->MatchKey("  Jean-François  O'Brien ", &a));
  EXPECT_EQ(a, "jean francois o brien");
  // "e" + combining acute (NFD) normalises to one code point.
  ASSERT_TRUE((*f)->Normalize("Jose\xcc\x81", &a));
  EXPECT_EQ(a, "Jos\xc3\xa9");
  EXPECT_FALSE((*f)->Normalize("\xff", &a));
}

TEST(PhoneFormatterTest, E164) {
  std::string out, why;
  ASSERT_TRUE(PhoneFormatter::ToE164("01 42 68 53 00", "FR", &out, &why)) << why;
  EXPECT_EQ(out, "+33142685300");
  ASSERT_TRUE(PhoneFormatter::ToE164("+49 30 901820", "FR", &out, &why)) << why;
  EXPECT_EQ(out, "+4930901820");
  EXPECT_FALSE(PhoneFormatter::ToE164("01 42 68 53 00", "", &out, &why));
  EXPECT_FALSE(PhoneFormatter::ToE164("12", "FR", &out, &why));
  EXPECT_FALSE(PhoneFormatter::ToE164("call me", "FR", &out, &why));
  EXPECT_TRUE(PhoneFormatter::KnownRegion("FR"));
  EXPECT_FALSE(PhoneFormatter::KnownRegion("XX"));
}

TEST(LineageTest, RoundTrip) {
  LineageWriter w;
  w.Add("k1", "specialty", "map", std::string_view("CA"), std::string_view("cardiology"));
  w.Add("k1", "country", "default", std::nullopt, std::string_view("FR"));
  w.Add("k2", "specialty", "map", std::string_view(""), std::nullopt);
  EXPECT_EQ(w.size(), 3u);
  std::string blob = w.Finish();
  EXPECT_EQ(w.size(), 0u);
  auto all = DecodeLineage(blob);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].key, "k1");
  EXPECT_EQ((*all)[1].field, "country");
  EXPECT_EQ((*all)[1].rule, "default");
  EXPECT_FALSE((*all)[1].before.has_value());
  EXPECT_EQ(*(*all)[1].after, "FR");
  EXPECT_EQ((*all)[2].key, "k2");
  EXPECT_EQ(*(*all)[2].before, "");
  EXPECT_FALSE((*all)[2].after.has_value());
  EXPECT_TRUE(DecodeLineage("").ok());
  EXPECT_FALSE(DecodeLineage(blob.substr(0, blob.size() - 1)).ok());
  EXPECT_FALSE(DecodeLineage("X").ok());
}

}  // namespace
}  // namespace sluice
