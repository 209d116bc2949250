#include "cli/progress_view.h"

#include <cstdio>

namespace sluice::cli {
namespace {

using ull = unsigned long long;

// The count of the furthest stage an entity has reached, with its name.
std::pair<const char*, uint64_t> Frontier(const v1::EntityProgress& e) {
  if (e.phase() == "output" || e.phase() == "finished") return {"loaded", e.loaded()};
  if (e.phase() == "resolve") return {"ingested", e.ingested()};
  return {"extracted", e.extracted()};
}

std::string Rate(double per_second) {
  if (per_second <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f/s", per_second);
  return buf;
}

std::string Ago(int64_t now_ms, int64_t then_ms) {
  if (then_ms <= 0) return "never";
  return FormatDuration(std::max<int64_t>(0, (now_ms - then_ms) / 1000)) + " ago";
}

}  // namespace

std::string FormatDuration(int64_t seconds) {
  if (seconds < 0) return "-";
  char buf[32];
  if (seconds >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds % 3600 / 60));
  } else if (seconds >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(seconds));
  }
  return buf;
}

std::string EntityLine(const v1::EntityProgress& e) {
  auto [stage, count] = Frontier(e);
  // Loaded out of what will be loaded is unknown until resolved: out of
  // what the sources hold, as the other stages.
  std::string of = e.expected() > 0 ? "/" + std::to_string(e.expected()) : "";
  char buf[256];
  const std::string counted = std::string(stage) + " " + std::to_string(count) + of;
  std::snprintf(buf, sizeof buf, "%-14s %-8s %-26s %10s  ETA %s", e.entity().c_str(),
                e.phase().c_str(), counted.c_str(), Rate(e.records_per_second()).c_str(),
                e.phase() == "finished" ? "-" : FormatDuration(e.eta_seconds()).c_str());
  std::string line = buf;
  if (e.rejected() + e.merged() + e.review() > 0) {
    line += "  (merged " + std::to_string(e.merged()) + ", rejected " +
            std::to_string(e.rejected()) + ", review " + std::to_string(e.review()) + ")";
  }
  return line;
}

std::string ProgressLine(const v1::RunProgress& p) {
  std::string line = "sluice: " + p.run_id() + " " + p.status();
  if (p.waves() > 0) {
    line += ", wave " + p.wave_name() + " (" + std::to_string(p.wave() + 1) + "/" +
            std::to_string(p.waves()) + ")";
  }
  bool any = false;
  for (const auto& e : p.entities()) {
    if (e.phase() == "waiting" || e.phase() == "finished") continue;
    auto [stage, count] = Frontier(e);
    line += any ? "; " : ": ";
    line += e.entity() + " " + e.phase() + " " + stage + " " + std::to_string(count);
    if (e.expected() > 0) line += "/" + std::to_string(e.expected());
    if (e.records_per_second() > 0) line += " " + Rate(e.records_per_second());
    if (e.eta_seconds() >= 0) line += " ETA " + FormatDuration(e.eta_seconds());
    any = true;
  }
  if (!any && !p.waiting().empty()) line += ": " + p.waiting();
  return line;
}

std::string StatusText(const v1::RunProgress& p, int64_t now_ms) {
  std::string out;
  char buf[512];
  const int64_t elapsed = p.started_ms() > 0 ? (p.at_ms() - p.started_ms()) / 1000 : -1;
  out += "run " + p.run_id() + (p.plan().empty() ? "" : " (plan " + p.plan() + ")") + ": " +
         p.status();
  if (p.status() == "running" || p.status() == "registering" || p.status() == "halting") {
    out += " for " + FormatDuration(elapsed);
  }
  if (p.waves() > 0) {
    out += ", wave " + p.wave_name() + " (" + std::to_string(p.wave() + 1) + " of " +
           std::to_string(p.waves()) + ")";
  }
  out += "\n";
  if (!p.reason().empty()) out += "reason: " + p.reason() + "\n";
  if (!p.host().empty()) {
    out += "coordinator: pid " + std::to_string(p.pid()) + " on " + p.host() + ", control " +
           p.control_endpoint();
    if (p.generation() > 1)
      out += ", continuing the run (coordinator " + std::to_string(p.generation()) + ")";
    out += "; snapshot " + Ago(now_ms, p.at_ms()) + "\n";
  }
  if (!p.waiting().empty() && p.status() != "completed")
    out += "waiting for: " + p.waiting() + "\n";
  if (p.status() == "halted" || p.status() == "paused" || p.status() == "interrupted") {
    out += "continue it with `sluice resume " + p.run_id() + "`\n";
  }
  out += "\n";
  std::snprintf(buf, sizeof buf, "%-12s %-14s %-9s %10s %11s %9s %9s %9s %9s %8s %8s %7s %9s %7s\n",
                "wave", "entity", "phase", "extracted", "transformed", "ingested", "resolved",
                "validated", "loaded", "merged", "rejected", "review", "rate", "ETA");
  out += buf;
  for (const auto& e : p.entities()) {
    std::snprintf(buf, sizeof buf,
                  "%-12s %-14s %-9s %10llu %11llu %9llu %9llu %9llu %9llu %8llu %8llu %7llu %9s "
                  "%7s\n",
                  std::to_string(e.wave()).c_str(), e.entity().c_str(), e.phase().c_str(),
                  ull(e.extracted()), ull(e.transformed()), ull(e.ingested()), ull(e.resolved()),
                  ull(e.validated()), ull(e.loaded()), ull(e.merged()), ull(e.rejected()),
                  ull(e.review()), Rate(e.records_per_second()).c_str(),
                  e.phase() == "finished" ? "-" : FormatDuration(e.eta_seconds()).c_str());
    out += buf;
  }
  if (p.workers_size() > 0) {
    out += "\n";
    std::snprintf(buf, sizeof buf, "%-16s %-16s %8s %-6s %-14s %8s  %s\n", "worker", "host", "pid",
                  "alive", "heartbeat", "restarts", "holding");
    out += buf;
    for (const auto& w : p.workers()) {
      std::snprintf(buf, sizeof buf, "%-16s %-16s %8u %-6s %-14s %8u  %s\n", w.identity().c_str(),
                    w.host().empty() ? "-" : w.host().c_str(), w.pid(), w.alive() ? "yes" : "no",
                    Ago(now_ms, w.last_heartbeat_ms()).c_str(), w.restarts(),
                    w.holding().empty() ? "-" : w.holding().c_str());
      out += buf;
    }
  }
  return out;
}

nlohmann::json StatusJson(const v1::RunProgress& p) {
  nlohmann::json j = {{"run_id", p.run_id()},
                      {"plan", p.plan()},
                      {"status", p.status()},
                      {"reason", p.reason()},
                      {"started_ms", p.started_ms()},
                      {"at_ms", p.at_ms()},
                      {"wave", p.wave()},
                      {"wave_name", p.wave_name()},
                      {"waves", p.waves()},
                      {"waiting", p.waiting()},
                      {"coordinator",
                       {{"host", p.host()},
                        {"pid", p.pid()},
                        {"control_endpoint", p.control_endpoint()},
                        {"generation", p.generation()}}},
                      {"restarts", p.restarts()},
                      {"entities", nlohmann::json::array()},
                      {"workers", nlohmann::json::array()}};
  for (const auto& e : p.entities()) {
    j["entities"].push_back({{"wave", e.wave()},
                             {"entity", e.entity()},
                             {"phase", e.phase()},
                             {"extracted", e.extracted()},
                             {"transformed", e.transformed()},
                             {"ingested", e.ingested()},
                             {"resolved", e.resolved()},
                             {"validated", e.validated()},
                             {"loaded", e.loaded()},
                             {"merged", e.merged()},
                             {"rejected", e.rejected()},
                             {"review", e.review()},
                             {"expected", e.expected()},
                             {"records_per_second", e.records_per_second()},
                             {"eta_seconds", e.eta_seconds()},
                             {"output_batches", e.output_batches()},
                             {"loaded_batches", e.loaded_batches()}});
  }
  for (const auto& w : p.workers()) {
    j["workers"].push_back({{"identity", w.identity()},
                            {"role", w.role()},
                            {"ordinal", w.ordinal()},
                            {"host", w.host()},
                            {"pid", w.pid()},
                            {"alive", w.alive()},
                            {"last_heartbeat_ms", w.last_heartbeat_ms()},
                            {"restarts", w.restarts()},
                            {"holding", w.holding()}});
  }
  return j;
}

}  // namespace sluice::cli
