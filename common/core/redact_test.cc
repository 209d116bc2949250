#include "common/core/redact.h"

#include <gtest/gtest.h>

#include "common/core/log.h"

namespace sluice {
namespace {

TEST(RedactTest, RegisteredSecretsNeverReachTheLog) {
  // Issue 23: a database's error quoting a query, or a path in an
  // extractor's message, carried a secret into the worker's log.
  RegisterSecret("hunter2-redact");
  RegisterSecret("hunter2");  // inside the longer one: the longer goes first
  RegisterSecret("");
  EXPECT_EQ(Redact("no such column: hunter2-redact; hunter2 hunter2"),
            "no such column: ***; *** ***");
  EXPECT_EQ(Redact("nothing secret"), "nothing secret");

  testing::internal::CaptureStderr();
  LogError(LogContext{"run-1", 0, "hcp", "b1", "extract"},
           "sources.erp: no such column: hunter2-redact");
  const std::string line = testing::internal::GetCapturedStderr();
  EXPECT_NE(line.find("no such column: ***"), std::string::npos) << line;
  EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
}

}  // namespace
}  // namespace sluice
