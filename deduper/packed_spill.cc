#include "deduper/packed_spill.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>

namespace sluice {

PackedSpill::~PackedSpill() {
  if (fd_ >= 0) close(fd_);
}

uint64_t PackedSpill::Append(std::string_view bytes) {
  if (failed_) return UINT64_MAX;
  if (fd_ < 0) {
    // Unnamed where the kernel allows it; else made and unlinked at once:
    // nothing is left behind by a crash either way.
    fd_ = open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      std::string path = dir_ + "/resolution-spill.XXXXXX";
      fd_ = mkostemp(path.data(), O_CLOEXEC);
      if (fd_ >= 0) unlink(path.c_str());
    }
    if (fd_ < 0) {
      failed_ = true;
      return UINT64_MAX;
    }
  }
  const uint64_t at = size_;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Disk full: what was written stays readable, the rest stays in memory.
      failed_ = true;
      return UINT64_MAX;
    }
    done += static_cast<size_t>(n);
  }
  size_ += bytes.size();
  return at;
}

bool PackedSpill::Read(uint64_t at, size_t min, size_t max, std::string* out) const {
  if (fd_ < 0 || at + min > size_) return false;
  if (at + max > size_) max = static_cast<size_t>(size_ - at);
  out->resize(max);
  size_t done = 0;
  while (done < min) {
    const ssize_t n = pread(fd_, out->data() + done, max - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  out->resize(done);
  return true;
}

}  // namespace sluice
