#include "common/core/datetime.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/value.h"

namespace sluice {
namespace {

int64_t Days(int y, unsigned m, unsigned d) { return CivilDays(y, m, d).value(); }

int64_t Micros(int y, unsigned m, unsigned d, int hh, int mm, int ss, int64_t us = 0) {
  return ((Days(y, m, d) * 24 + hh) * 60 + mm) * 60 * 1000000 + ss * int64_t{1000000} + us;
}

struct DateCase {
  const char* text;
  const char* format;
  int year;
  unsigned month;
  unsigned day;
};

TEST(ParseDateTest, AcceptsWhatTheFormatSays) {
  const DateCase cases[] = {
      {"2020-02-29", "%Y-%m-%d", 2020, 2, 29},
      {"29/02/2020", "%d/%m/%Y", 2020, 2, 29},
      {"03/04/2020", "%d/%m/%Y", 2020, 4, 3},  // DD/MM: 3 April
      {"03/04/2020", "%m/%d/%Y", 2020, 3, 4},  // MM/DD: 4 March
      {"3/4/2020", "%d/%m/%Y", 2020, 4, 3},    // single digits
      {"03042020", "%d%m%Y", 2020, 4, 3},
      {"20200403", "%Y%m%d", 2020, 4, 3},
      {"01-jan-99", "%d-%b-%y", 1999, 1, 1},
      {"01-JAN-68", "%d-%b-%y", 2068, 1, 1},
      {"7 September 2021", "%d %b %Y", 2021, 9, 7},
      {"7 Sep 2021", "%d %b %Y", 2021, 9, 7},
      {"2020-02-29 13:05:59", "%Y-%m-%d %H:%M:%S", 2020, 2, 29},  // time ignored
      {"100%2020", "100%%%Y", 2020, 1, 1},
  };
  for (const auto& c : cases) {
    auto r = ParseDate(c.text, c.format);
    ASSERT_TRUE(r.ok()) << c.text << " / " << c.format << ": " << r.status().ToString();
    EXPECT_EQ(*r, Days(c.year, c.month, c.day)) << c.text << " / " << c.format;
  }
}

struct BadCase {
  const char* text;
  const char* format;
  const char* error;  // substring of the message
};

TEST(ParseDateTest, RefusesWhatTheFormatDoesNotSay) {
  const BadCase cases[] = {
      {"31/02/2020", "%d/%m/%Y", "no such date"},
      {"29/02/2021", "%d/%m/%Y", "no such date"},
      {"01/13/2020", "%d/%m/%Y", "no such date"},
      {"00/01/2020", "%d/%m/%Y", "no such date"},
      {"2020-02-01", "%d/%m/%Y", "expected '/' at position 2"},
      {"01/02/20", "%d/%m/%Y", "expected 4-digit year at position 6"},
      {"01/02/2020 ", "%d/%m/%Y", "unexpected text at position 10"},
      {" 01/02/2020", "%d/%m/%Y", "expected day at position 0"},
      {"", "%Y-%m-%d", "expected 4-digit year at position 0"},
      {"2020-02-", "%Y-%m-%d", "expected day at position 8"},
      {"01-Foo-2020", "%d-%b-%Y", "expected month name"},
      {"2020", "%Q", "unsupported directive %Q"},
      {"2020", "%Y%", "format ends with '%'"},
      {"2020-01-01 24:00:00", "%Y-%m-%d %H:%M:%S", "expected hour"},
  };
  for (const auto& c : cases) {
    auto r = ParseDate(c.text, c.format);
    ASSERT_FALSE(r.ok()) << c.text << " / " << c.format;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos)
        << c.text << " / " << c.format << ": " << r.status().message();
  }
}

TEST(ParseDateAnyTest, FirstMatchingFormatWins) {
  std::vector<std::string> formats{"%d/%m/%Y", "%Y-%m-%d"};
  EXPECT_EQ(*ParseDateAny("2020-04-03", formats), Days(2020, 4, 3));
  EXPECT_EQ(*ParseDateAny("03/04/2020", formats), Days(2020, 4, 3));
}

TEST(ParseDateAnyTest, ErrorNamesFormatsAndClosestFailure) {
  auto r = ParseDateAny("31/02/2020", {"%d/%m/%Y"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot parse '31/02/2020' as date with formats %d/%m/%Y: no such date");
  // The ISO format fails at once; the closest failure is the impossible date.
  r = ParseDateAny("31/02/2020", {"%Y-%m-%d", "%d/%m/%Y"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot parse '31/02/2020' as date with formats %Y-%m-%d, %d/%m/%Y: no such date");
  EXPECT_FALSE(ParseDateAny("2020-01-01", {}).ok());
}

TEST(ParseTimestampTest, UtcFractionsAndOffsets) {
  EXPECT_EQ(*ParseTimestamp("2020-02-29T13:05:07", "%Y-%m-%dT%H:%M:%S"),
            Micros(2020, 2, 29, 13, 5, 7));
  EXPECT_EQ(*ParseTimestamp("2020-02-29 13:05:07.25", "%Y-%m-%d %H:%M:%S.%f"),
            Micros(2020, 2, 29, 13, 5, 7, 250000));
  EXPECT_EQ(*ParseTimestamp("2020-02-29 13:05:07.123456", "%Y-%m-%d %H:%M:%S.%f"),
            Micros(2020, 2, 29, 13, 5, 7, 123456));
  EXPECT_FALSE(ParseTimestamp("2020-02-29 13:05:07.1234567", "%Y-%m-%d %H:%M:%S.%f").ok());
  EXPECT_EQ(*ParseTimestamp("2020-02-29T13:05:07+02:00", "%Y-%m-%dT%H:%M:%S%z"),
            Micros(2020, 2, 29, 11, 5, 7));
  EXPECT_EQ(*ParseTimestamp("2020-02-29T13:05:07-0130", "%Y-%m-%dT%H:%M:%S%z"),
            Micros(2020, 2, 29, 14, 35, 7));
  EXPECT_EQ(*ParseTimestamp("2020-02-29T13:05:07Z", "%Y-%m-%dT%H:%M:%S%z"),
            Micros(2020, 2, 29, 13, 5, 7));
  // An explicit %z wins over the zone argument.
  EXPECT_EQ(*ParseTimestamp("2020-02-29T13:05:07Z", "%Y-%m-%dT%H:%M:%S%z", "Europe/Paris"),
            Micros(2020, 2, 29, 13, 5, 7));
  EXPECT_EQ(*ParseTimestamp("2020-02-29", "%Y-%m-%d"), Micros(2020, 2, 29, 0, 0, 0));
  EXPECT_EQ(*ParseTimestamp("1969-12-31 23:59:59", "%Y-%m-%d %H:%M:%S"), -1000000);
  EXPECT_FALSE(ParseTimestamp("2020-02-30 10:00:00", "%Y-%m-%d %H:%M:%S").ok());
  EXPECT_FALSE(ParseTimestamp("2020-02-01 10:60:00", "%Y-%m-%d %H:%M:%S").ok());
}

TEST(ParseTimestampTest, Zones) {
  const char* f = "%Y-%m-%d %H:%M:%S";
  // Winter (+01:00) and summer (+02:00) in Paris.
  EXPECT_EQ(*ParseTimestamp("2020-01-15 12:00:00", f, "Europe/Paris"),
            Micros(2020, 1, 15, 11, 0, 0));
  EXPECT_EQ(*ParseTimestamp("2020-07-15 12:00:00", f, "Europe/Paris"),
            Micros(2020, 7, 15, 10, 0, 0));
  EXPECT_EQ(*ParseTimestamp("2020-07-15 12:00:00", f, "America/New_York"),
            Micros(2020, 7, 15, 16, 0, 0));
  EXPECT_EQ(*ParseTimestamp("2020-07-15 12:00:00", f, "+05:30"), Micros(2020, 7, 15, 6, 30, 0));
  // 2020-03-29 02:30 never happened in Paris.
  auto gap = ParseTimestamp("2020-03-29 02:30:00", f, "Europe/Paris");
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("does not exist"), std::string::npos);
  // 2020-10-25 02:30 happened twice: the earlier one (+02:00).
  EXPECT_EQ(*ParseTimestamp("2020-10-25 02:30:00", f, "Europe/Paris"),
            Micros(2020, 10, 25, 0, 30, 0));
  auto bad = ParseTimestamp("2020-07-15 12:00:00", f, "Mars/Olympus");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown time zone 'Mars/Olympus'");
}

TEST(ParseTimestampAnyTest, ListsFormats) {
  std::vector<std::string> formats{"%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"};
  EXPECT_EQ(*ParseTimestampAny("03/04/2020 10:30", formats), Micros(2020, 4, 3, 10, 30, 0));
  auto r = ParseTimestampAny("03/04/2020 1030", formats);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot parse '03/04/2020 1030' as timestamp with formats %Y-%m-%dT%H:%M:%S, "
            "%d/%m/%Y %H:%M: expected ':' at position 13");
}

}  // namespace
}  // namespace sluice
