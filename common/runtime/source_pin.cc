#include "common/runtime/source_pin.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace sluice {

Result<std::optional<v1::SourcePin>> PinSource(const SourceSpec& spec) {
  if (spec.path.empty()) return std::optional<v1::SourcePin>();
  struct stat st {};
  if (::stat(spec.path.c_str(), &st) != 0) {
    return Status::IoError("source " + spec.name + ": cannot examine " + spec.path + ": " +
                           std::strerror(errno));
  }
  v1::SourcePin pin;
  pin.set_path(spec.path);
  pin.set_size(static_cast<uint64_t>(st.st_size));
  pin.set_mtime_ns(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  pin.set_device(static_cast<uint64_t>(st.st_dev));
  pin.set_inode(static_cast<uint64_t>(st.st_ino));
  return std::optional<v1::SourcePin>(std::move(pin));
}

std::string PinChange(const v1::SourcePin& pinned, const v1::SourcePin& now) {
  const std::string sizes =
      " from " + std::to_string(pinned.size()) + " to " + std::to_string(now.size()) + " bytes";
  if (pinned.device() != now.device() || pinned.inode() != now.inode()) {
    return "another file was put in its place (" + std::to_string(pinned.size()) + " bytes, now " +
           std::to_string(now.size()) + ")";
  }
  if (now.size() < pinned.size()) return "it shrank" + sizes;
  if (now.size() > pinned.size()) return "it grew" + sizes;
  if (now.mtime_ns() != pinned.mtime_ns()) {
    return "it was rewritten (same size, " + std::to_string(now.size()) +
           " bytes, modification time changed)";
  }
  return "";
}

}  // namespace sluice
