#include "transformer/pseudonym.h"

#include <gtest/gtest.h>

#include <set>

namespace sluice {
namespace {

Pseudonymiser Make(const std::string& key = "rehearsal-key-0123456789") {
  auto p = Pseudonymiser::Create(key);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::move(p).value();
}

TEST(PseudonymTest, ShortKeysAreRefused) { EXPECT_FALSE(Pseudonymiser::Create("short").ok()); }

TEST(PseudonymTest, DeterministicUnderTheKeyAndDifferentUnderAnother) {
  const Pseudonymiser a = Make(), again = Make(), other = Make("another-key-0123456789");
  EXPECT_EQ(a.Identifier("FR12345678901"), again.Identifier("FR12345678901"));
  EXPECT_NE(a.Identifier("FR12345678901"), other.Identifier("FR12345678901"));
  EXPECT_EQ(a.Email("Claire.Martin@chu-lyon.fr"), again.Email("claire.martin@CHU-Lyon.fr"));
  EXPECT_NE(a.Email("claire.martin@chu-lyon.fr"), other.Email("claire.martin@chu-lyon.fr"));
}

TEST(PseudonymTest, NamesComeFromTheListWithTheirSeparatorsAndCase) {
  const Pseudonymiser p = Make();
  const std::string n = p.Name("Jean-Pierre MARTIN");
  EXPECT_EQ(n.find("Jean"), std::string::npos);
  EXPECT_EQ(n.find("MARTIN"), std::string::npos);
  ASSERT_NE(n.find('-'), std::string::npos) << n;
  ASSERT_NE(n.find(' '), std::string::npos) << n;
  const std::string last = n.substr(n.find(' ') + 1);
  for (char c : last) EXPECT_TRUE(std::isupper(static_cast<unsigned char>(c))) << n;
  EXPECT_NE(p.Name("MARTIN"), "MARTIN");
  // The same word is the same name whatever its case.
  std::string lower = p.Name("martin"), upper = p.Name("MARTIN");
  for (char& c : lower) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(lower, upper);
}

TEST(PseudonymTest, EmailsAreUndeliverable) {
  const std::string e = Make().Email("claire.martin@chu-lyon.fr");
  EXPECT_EQ(e.size(), 16 + std::string("@example.invalid").size());
  EXPECT_EQ(e.substr(16), "@example.invalid");
}

TEST(PseudonymTest, PhonesKeepCountryCodeAndLength) {
  const Pseudonymiser p = Make();
  const std::string fr = p.Phone("+33612345678");
  EXPECT_EQ(fr.size(), 12u);
  EXPECT_EQ(fr.substr(0, 3), "+33");
  EXPECT_NE(fr, "+33612345678");
  const std::string us = p.Phone("+12025550123");
  EXPECT_EQ(us.substr(0, 2), "+1");
  EXPECT_EQ(us.size(), 12u);
  const std::string local = p.Phone("06 12 34 56 78");
  EXPECT_EQ(local.size(), 14u);
  EXPECT_EQ(local[2], ' ');
}

TEST(PseudonymTest, IdentifiersKeepTheirPattern) {
  const std::string id = Make().Identifier("FR12345678901-b");
  ASSERT_EQ(id.size(), 15u);
  for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(std::isupper(static_cast<unsigned char>(id[i])));
  for (size_t i = 2; i < 13; ++i) EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(id[i])));
  EXPECT_EQ(id[13], '-');
  EXPECT_TRUE(std::islower(static_cast<unsigned char>(id[14])));
  EXPECT_NE(id, "FR12345678901-b");
}

TEST(PseudonymTest, DatesMoveWithinTheirYearByARecordOffset) {
  const Pseudonymiser p = Make();
  std::set<std::string> moved;
  for (int k = 0; k < 20; ++k) {
    const std::string key = "crm/" + std::to_string(k);
    const std::string d = p.Date("1975-12-30", key);
    EXPECT_EQ(d.substr(0, 4), "1975") << d;
    EXPECT_EQ(d, p.Date("1975-12-30", key));  // the same record, the same offset
    moved.insert(d);
  }
  EXPECT_GT(moved.size(), 10u);  // records differ
  EXPECT_EQ(p.Date("not a date", "k"), "not a date");
  EXPECT_EQ(p.Date("2024-02-29", "k").substr(0, 4), "2024");
}

}  // namespace
}  // namespace sluice
