#include "common/plan/pattern.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sluice {
namespace {

Pattern Must(const std::string& text) {
  auto p = Pattern::Compile(text);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::move(p).value();
}

TEST(PatternTest, SearchesUnlessAnchored) {
  EXPECT_TRUE(Must("[0-9]{5}").Matches("FR-75001"));
  EXPECT_FALSE(Must("^[0-9]{5}$").Matches("FR-75001"));
  EXPECT_TRUE(Must("^[0-9]{5}$").Matches("75001"));
  // $ is the end of the value, not the end of a line.
  EXPECT_FALSE(Must("^[0-9]{5}$").Matches("75001\n"));
  EXPECT_TRUE(Must("").Matches(""));
}

TEST(PatternTest, EmailShape) {
  const Pattern p = Must(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  EXPECT_TRUE(p.Matches("anne.martin@example.fr"));
  EXPECT_FALSE(p.Matches("anne martin@example.fr"));
  EXPECT_FALSE(p.Matches("anne@@example.fr"));
  EXPECT_FALSE(p.Matches("anne@example"));
}

TEST(PatternTest, BadPatternNamesPatternMessageAndOffset) {
  auto p = Pattern::Compile("(");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(), "bad regex '(': missing closing parenthesis at offset 1");
  auto q = Pattern::Compile("[0-9]{5,3}");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().message(),
            "bad regex '[0-9]{5,3}': numbers out of order in {} quantifier at offset 9");
}

TEST(PatternTest, Utf8) {
  const Pattern p = Must("^Mü");
  EXPECT_TRUE(p.Matches("Müller"));
  EXPECT_FALSE(p.Matches("Muller"));
  // A dot is one character, not one byte.
  EXPECT_TRUE(Must("^Zo.$").Matches("Zoë"));
  EXPECT_TRUE(Must("^[ëØ]+$").Matches("ëØë"));
  // A pattern that is not UTF-8 is refused.
  EXPECT_FALSE(Pattern::Compile("M\xfc").ok());
}

TEST(PatternTest, InvalidUtf8SubjectIsNoMatch) {
  EXPECT_FALSE(Must("M").Matches("M\xfcller"));  // Latin-1 ü
  EXPECT_FALSE(Must("").Matches("\xff"));
  EXPECT_FALSE(Must("^Mü").Matches(std::string("M\xc3", 2)));  // truncated sequence
  EXPECT_TRUE(Must("M").Matches("Müller"));
}

TEST(PatternTest, EmbeddedNul) { EXPECT_TRUE(Must("b").Matches(std::string("a\0b", 3))); }

TEST(PatternTest, LongSubjectDoesNotCrash) {
  const std::string mb(1 << 20, 'a');
  EXPECT_TRUE(Must("^[a-z]+$").Matches(mb));
  EXPECT_TRUE(Must("^(a|b)*$").Matches(mb));
  EXPECT_FALSE(Must("^(a|b)*c$").Matches(mb));
  EXPECT_TRUE(Must("a$").Matches(mb));
  EXPECT_TRUE(Must(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)").Matches(mb + "@b.c"));  // std::regex overflowed
  // Catastrophic backtracking gives up on PCRE2's limits: no match, no crash.
  EXPECT_FALSE(Must("^(a+)+$").Matches(std::string(64, 'a') + "!"));
}

TEST(PatternTest, SharedAcrossThreads) {
  const Pattern p = Must(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) hits[t] += p.Matches(i % 2 ? "a@b.c" : "a b@c.d") ? 1 : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int h : hits) EXPECT_EQ(h, 5000);
}

}  // namespace
}  // namespace sluice
