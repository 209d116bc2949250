#include "cli/command.h"

#include <cstdarg>
#include <cstdio>
#include <filesystem>

namespace sluice::cli {

void CommandContext::Printf(const char* format, ...) {
  char buf[1024];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof buf) {
    out_.write(buf, n);
    return;
  }
  std::string text(static_cast<size_t>(n) + 1, '\0');
  va_start(args, format);
  std::vsnprintf(text.data(), text.size(), format, args);
  va_end(args);
  out_.write(text.data(), n);
}

int CommandContext::Fail(std::string_view message, int exit_code) {
  err_ << "sluice: " << message << "\n";
  return exit_code;
}

int CommandContext::InvalidPlan(const Status& problems) {
  err_ << "sluice: the plan is invalid:\n" << problems.message() << "\n";
  return kExitInvalidPlan;
}

Status CommandContext::LoadPlan(const std::string& path, const std::string& environment) {
  SLUICE_ASSIGN_OR_RETURN(Plan plan, sluice::LoadPlan(path, environment));
  plan_ = std::move(plan);
  return Status::Ok();
}

Status CommandContext::OpenAudit(const std::string& plan_path, const std::string& state_dir,
                                 AuditAccess access) {
  std::string dir = state_dir;
  if (dir.empty() && (has_plan() || !plan_path.empty())) {
    if (!has_plan()) SLUICE_RETURN_IF_ERROR(LoadPlan(plan_path));
    dir = plan_->state_dir;
  }
  const bool defaulted = dir.empty();
  if (defaulted) dir = ".sluice";
  auto path = std::filesystem::path(dir) / "audit.db";
  if (!std::filesystem::exists(path)) {
    // A new user's run keeps its audit store beside its plan, not in
    // ./.sluice: when we only looked at the default, say where to look.
    return Status::NotFound(
        "no audit store at " + path.string() +
        (defaulted ? " (give the run's --state-dir DIR, or --plan PLAN: a plan's state dir is "
                     "its state_dir, .sluice beside the plan by default)"
                   : ""));
  }
  SLUICE_ASSIGN_OR_RETURN(audit_,
                          AuditStore::Open(path.string(), access == AuditAccess::kReadOnly));
  state_dir_ = dir;
  return Status::Ok();
}

CLI::App* CommandSet::Group(const std::string& name, const std::string& description) {
  auto named = [&](CLI::App* app) { return app->get_name() == name; };
  if (auto existing = root_->get_subcommands(named); !existing.empty()) return existing.front();
  CLI::App* group = root_->add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

CLI::App* CommandSet::Add(CLI::App* parent, const std::string& name, const std::string& description,
                          CommandAction action) {
  CLI::App* app = (parent != nullptr ? parent : root_)->add_subcommand(name, description);
  commands_.emplace_back(app, std::move(action));
  return app;
}

const CommandAction* CommandSet::Parsed() const {
  for (const auto& [app, action] : commands_) {
    if (app->parsed()) return &action;
  }
  return nullptr;
}

}  // namespace sluice::cli
