#include "coordinator/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace sluice {

Launcher::~Launcher() { StopAll(500); }

std::string Launcher::SelfDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

Result<pid_t> Launcher::Start(const LaunchSpec& spec) {
  std::string exe = bin_dir_ + "/sluice-" + spec.role;
  if (access(exe.c_str(), X_OK) != 0) return Status::NotFound("worker executable " + exe);
  std::vector<std::string> args = {exe, "--coordinator", spec.coordinator, "--ordinal",
                                   std::to_string(spec.ordinal), "--log-level", spec.log_level};
  if (!spec.bind.empty()) {
    args.push_back("--bind");
    args.push_back(spec.bind);
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(spec.log_path).parent_path(), ec);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Status::Unavailable("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int fd = open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
      close(fd);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  children_[pid] = spec.role + "-" + std::to_string(spec.ordinal);
  return pid;
}

std::vector<std::pair<std::string, std::string>> Launcher::Reap() {
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    auto it = children_.find(pid);
    if (it == children_.end()) continue;
    std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "exited with code " + std::to_string(WEXITSTATUS(status));
    out.emplace_back(it->second, how);
    children_.erase(it);
  }
  return out;
}

void Launcher::StopAll(int grace_ms) {
  if (children_.empty()) return;
  for (const auto& [pid, id] : children_) kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (!children_.empty() && std::chrono::steady_clock::now() < deadline) {
    Reap();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const auto& [pid, id] : children_) kill(pid, SIGKILL);
  while (!children_.empty()) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid <= 0) break;
    children_.erase(pid);
  }
}

}  // namespace sluice
