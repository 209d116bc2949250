// Structured JSON logging: one JSON object per line on stderr, carrying the
// run, wave, entity, batch and stage with every line.
#pragma once

#include <string>

namespace sluice {

struct LogContext {
  std::string run;
  int wave = -1;
  std::string entity;
  std::string batch;
  std::string stage;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Sets up the process logger; `role` names the process ("transformer-0").
void InitLogging(const std::string& role, LogLevel min_level = LogLevel::kInfo);
// Parses "debug", "info", "warn", "error"; unknown text gives kInfo.
LogLevel ParseLogLevel(const std::string& text);

// Writes one line; registered secrets in `message` are replaced by "***"
// (common/core/redact.h).
void Log(LogLevel level, const LogContext& ctx, const std::string& message);
inline void LogInfo(const LogContext& ctx, const std::string& m) { Log(LogLevel::kInfo, ctx, m); }
inline void LogWarn(const LogContext& ctx, const std::string& m) { Log(LogLevel::kWarn, ctx, m); }
inline void LogError(const LogContext& ctx, const std::string& m) { Log(LogLevel::kError, ctx, m); }
inline void LogDebug(const LogContext& ctx, const std::string& m) { Log(LogLevel::kDebug, ctx, m); }

}  // namespace sluice
