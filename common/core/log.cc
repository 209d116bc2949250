#include "common/core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/core/redact.h"

namespace sluice {
namespace {

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger;
  return logger;
}
std::string& Role() {
  static std::string role = "sluice";
  return role;
}

spdlog::level::level_enum ToSpd(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void InitLogging(const std::string& role, LogLevel min_level) {
  Role() = role;
  auto logger = spdlog::stderr_logger_mt("sluice-" + role);
  // The message is already a JSON object; spdlog adds nothing but the newline.
  logger->set_pattern("%v");
  logger->set_level(ToSpd(min_level));
  logger->flush_on(spdlog::level::warn);
  Logger() = logger;
}

LogLevel ParseLogLevel(const std::string& text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

void Log(LogLevel level, const LogContext& ctx, const std::string& message) {
  auto& logger = Logger();
  if (!logger) InitLogging(Role());
  if (!logger->should_log(ToSpd(level))) return;
  static const char* kNames[] = {"debug", "info", "warn", "error"};
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  nlohmann::json j{{"ts_ms", ms},           {"level", kNames[static_cast<int>(level)]},
                   {"process", Role()},     {"run", ctx.run},
                   {"wave", ctx.wave},      {"entity", ctx.entity},
                   {"batch", ctx.batch},    {"stage", ctx.stage},
                   {"msg", Redact(message)}};
  logger->log(ToSpd(level), j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace sluice
