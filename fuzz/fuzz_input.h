// What the harnesses share: the fuzzer's bytes as a file (the sources and
// readers under test open paths), and the checks every harness applies to
// what a parser hands on. Header-only; fuzz/ is built only with SLUICE_FUZZ.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/core/utf8.h"

namespace sluice::fuzz {

// The bytes as an anonymous in-memory file, opened by path
// (/proc/self/fd/N): no disk I/O per execution, nothing left behind.
class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) {
    fd_ = ::memfd_create("sluice-fuzz", MFD_CLOEXEC);
    if (fd_ < 0) std::abort();
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// A broken invariant: libFuzzer records the input as a crash.
[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

inline void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

// Text sluice hands on (a reject's value and reason, an issue) must be
// valid UTF-8: it travels in protobuf string fields.
inline void CheckUtf8(std::string_view text, const char* what) {
  Check(FindInvalidUtf8(text) == std::string_view::npos, what);
}

}  // namespace sluice::fuzz
