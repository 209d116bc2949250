#include "coordinator/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string_view>
#include <thread>

namespace sluice {

Launcher::~Launcher() { StopAll(0); }

std::string Launcher::SelfDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

Result<pid_t> Launcher::Start(const LaunchSpec& spec) {
  std::string exe = bin_dir_ + "/sluice-" + spec.role;
  if (access(exe.c_str(), X_OK) != 0) return Status::NotFound("worker executable " + exe);
  std::vector<std::string> args = {
      exe,           "--coordinator", spec.coordinator, "--ordinal", std::to_string(spec.ordinal),
      "--log-level", spec.log_level};
  if (!spec.bind.empty()) {
    args.push_back("--bind");
    args.push_back(spec.bind);
  }
  // The child's environment, built before fork (the child only execs): ours,
  // with the worker's keys when the run is sealed.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    if (var.rfind("SLUICE_CURVE_SECRET_KEY=", 0) == 0 ||
        var.rfind("SLUICE_COORDINATOR_KEY=", 0) == 0)
      continue;
    env.emplace_back(var);
  }
  if (!spec.curve_secret_key.empty()) {
    env.push_back("SLUICE_CURVE_SECRET_KEY=" + spec.curve_secret_key);
    env.push_back("SLUICE_COORDINATOR_KEY=" + spec.coordinator_key);
  }
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(spec.log_path).parent_path(), ec);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Status::Unavailable("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    // A process group of its own: Ctrl-C on the terminal reaches `sluice run`
    // alone, which halts the run and stops its workers cleanly (issue 15);
    // the workers still die with it (PDEATHSIG).
    setpgid(0, 0);
    int fd = open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
      close(fd);
    }
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  children_[pid] = spec.role + "-" + std::to_string(spec.ordinal);
  return pid;
}

std::vector<std::pair<std::string, std::string>> Launcher::Reap() {
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    int status = 0;
    struct rusage usage {};
    pid_t pid = wait4(-1, &status, WNOHANG, &usage);
    if (pid <= 0) break;
    auto it = children_.find(pid);
    if (it == children_.end()) continue;
    std::string how = WIFSIGNALED(status)
                          ? "killed by signal " + std::to_string(WTERMSIG(status))
                          : "exited with code " + std::to_string(WEXITSTATUS(status));
    char cpu[128];
    std::snprintf(cpu, sizeof cpu, " after %.2fs user, %.2fs system cpu, peak RSS %ld MiB",
                  usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6,
                  usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6, usage.ru_maxrss / 1024);
    how += cpu;
    out.emplace_back(it->second, how);
    children_.erase(it);
  }
  return out;
}

void Launcher::StopAll(int grace_ms) {
  // Workers were told to shut down: give them `grace_ms` to exit on their
  // own, then SIGTERM, then SIGKILL.
  auto wait_for = [this](int ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!children_.empty() && std::chrono::steady_clock::now() < deadline) {
      for (const auto& [id, how] : Reap()) exited_.emplace_back(id, how);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  wait_for(grace_ms);
  for (const auto& [pid, id] : children_) kill(pid, SIGTERM);
  wait_for(500);
  for (const auto& [pid, id] : children_) kill(pid, SIGKILL);
  wait_for(2000);
}

}  // namespace sluice
