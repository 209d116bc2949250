#include "coordinator/state_reserve.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice::coordination {

Result<StateReserve> StateReserve::Create(const std::string& path, uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot make " + path + ": " + std::strerror(errno));
  // Written, not allocated with a hole: the blocks must be ours to give back.
  const std::vector<char> block(1 << 16, '\0');
  int error = 0;
  for (uint64_t done = 0; done < bytes && error == 0;) {
    const ssize_t n = ::write(fd, block.data(), std::min<uint64_t>(block.size(), bytes - done));
    if (n < 0) {
      if (errno != EINTR) error = errno;
      continue;
    }
    done += static_cast<uint64_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  ::close(fd);
  if (error != 0) {
    ::unlink(path.c_str());
    const std::string why = std::strerror(error);
    return Status::IoError((error == ENOSPC
                                ? "no space left on device in the state directory: cannot reserve "
                                : "cannot reserve ") +
                           std::to_string(bytes) + " bytes at " + path + ": " + why);
  }
  StateReserve reserve;
  reserve.path_ = path;
  return reserve;
}

bool StateReserve::Release() {
  if (path_.empty()) return false;
  const bool freed = ::unlink(path_.c_str()) == 0;
  path_.clear();
  return freed;
}

std::string StateFaultReason(const Status& st, const std::string& state_dir) {
  const std::string& m = st.message();
  if (m.find("no space left on device") != std::string::npos ||
      m.find("No space left on device") != std::string::npos) {
    return "no space left on device in the state directory " + state_dir + ": " + m +
           "; free space there, then `sluice resume` the run";
  }
  return "coordinator error: " + st.ToString();
}

}  // namespace sluice::coordination
