#include "deduper/shard_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/core/hash.h"
#include "deduper/dedup.h"  // ShardLogReplay

namespace sluice {
namespace {

constexpr size_t kHeaderSize = 12;  // length (4) + hash (8)

std::string ErrnoText(const std::string& what, const std::string& path) {
  return "shard log " + path + ": " + what + ": " + std::strerror(errno);
}

void PutLe(uint64_t v, int bytes, char* out) {
  for (int b = 0; b < bytes; ++b) out[b] = static_cast<char>((v >> (8 * b)) & 0xff);
}

uint64_t GetLe(const char* in, int bytes) {
  uint64_t v = 0;
  for (int b = 0; b < bytes; ++b)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in[b])) << (8 * b);
  return v;
}

// Reads exactly `n` bytes at `offset`; false on a short read or an error.
bool ReadAt(int fd, uint64_t offset, size_t n, char* out) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

// True when every byte from `offset` to `end` is zero: space the file system
// extended for a write that never reached the disk.
bool AllZeroFrom(int fd, uint64_t offset, uint64_t end) {
  char buf[64 * 1024];
  while (offset < end) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof buf, end - offset));
    if (!ReadAt(fd, offset, n, buf)) return false;
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != 0) return false;
    }
    offset += n;
  }
  return true;
}

// Makes a newly created file's directory entry durable.
void SyncDirectory(const std::filesystem::path& dir) {
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  ::fsync(dfd);
  ::close(dfd);
}

// Hands the intact frames of the first `file_size` bytes to `on_frame`;
// `end` receives the offset after the last intact frame. A torn tail stops
// the scan; damage followed by more data is corruption.
Status ScanFrames(int fd, const std::string& path, uint64_t file_size,
                  const std::function<Status(std::string_view)>& on_frame, uint64_t* end,
                  uint64_t* frames) {
  uint64_t offset = 0;
  std::string payload;
  char header[kHeaderSize];
  while (offset < file_size) {
    // A frame that does not fit in the file is the torn tail of an append.
    if (file_size - offset < kHeaderSize) break;
    if (!ReadAt(fd, offset, kHeaderSize, header)) {
      return Status::IoError(ErrnoText("cannot read", path));
    }
    const uint64_t length = GetLe(header, 4);
    const uint64_t hash = GetLe(header + 4, 8);
    const uint64_t frame_end = offset + kHeaderSize + length;
    if (frame_end > file_size) break;
    payload.resize(length);
    if (!ReadAt(fd, offset + kHeaderSize, length, payload.data())) {
      return Status::IoError(ErrnoText("cannot read", path));
    }
    if (Hash64(payload) != hash) {
      // The last frame, or a zero-filled tail, is a write cut short by a
      // crash; damage followed by intact data is not.
      if (frame_end == file_size || AllZeroFrom(fd, offset, file_size)) break;
      return Status::Corruption("shard log " + path + ": frame at offset " +
                                std::to_string(offset) + " is damaged (checksum mismatch) and " +
                                std::to_string(file_size - frame_end) + " bytes follow it");
    }
    SLUICE_RETURN_IF_ERROR(on_frame(payload).WithContext(
        "shard log " + path + ": frame at offset " + std::to_string(offset)));
    ++*frames;
    offset = frame_end;
  }
  *end = offset;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ShardLog>> ShardLog::Open(
    const std::string& path, const std::function<Status(std::string_view)>& on_frame,
    Recovery* recovery) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return Status::IoError("shard log " + path + ": cannot create folder: " + ec.message());
  const bool existed = fs::exists(path, ec);

  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(ErrnoText("cannot open", path));
  std::unique_ptr<ShardLog> log(new ShardLog(path, fd, 0));
  if (!existed) SyncDirectory(parent);

  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::IoError(ErrnoText("cannot stat", path));
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);

  Recovery found;
  uint64_t offset = 0;
  SLUICE_RETURN_IF_ERROR(ScanFrames(fd, path, file_size, on_frame, &offset, &found.frames));
  if (offset < file_size) {
    if (::ftruncate(fd, static_cast<off_t>(offset)) != 0 || ::fdatasync(fd) != 0) {
      return Status::IoError(ErrnoText("cannot truncate torn tail", path));
    }
    found.truncated_bytes = file_size - offset;
  }
  found.bytes = offset;
  log->size_ = offset;
  if (recovery != nullptr) *recovery = found;
  return log;
}

Status ShardLog::ReadAll(const std::function<Status(std::string_view)>& on_frame) const {
  uint64_t end = 0, frames = 0;
  SLUICE_RETURN_IF_ERROR(ScanFrames(fd_, path_, size_, on_frame, &end, &frames));
  if (end != size_) {
    return Status::Corruption("shard log " + path_ + ": damaged at offset " + std::to_string(end));
  }
  return Status::Ok();
}

ShardLog::~ShardLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status ShardLog::Append(std::string_view payload) {
  if (broken_) return Status::IoError("shard log " + path_ + ": refused after a failed sync");
  if (payload.size() > UINT32_MAX) {
    return Status::InvalidArgument("shard log " + path_ + ": frame of " +
                                   std::to_string(payload.size()) + " bytes is too large");
  }
  // One buffer, one write: a crash leaves at most one torn frame at the end.
  std::string frame(kHeaderSize + payload.size(), '\0');
  PutLe(payload.size(), 4, frame.data());
  PutLe(Hash64(payload), 8, frame.data() + 4);
  std::memcpy(frame.data() + kHeaderSize, payload.data(), payload.size());

  size_t done = 0;
  while (done < frame.size()) {
    ssize_t w =
        ::pwrite(fd_, frame.data() + done, frame.size() - done, static_cast<off_t>(size_ + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      Status st = Status::IoError(ErrnoText("cannot append", path_));
      if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) broken_ = true;
      return st;
    }
    done += static_cast<size_t>(w);
  }
  if (::fdatasync(fd_) != 0) {
    broken_ = true;
    return Status::IoError(ErrnoText("cannot sync", path_));
  }
  size_ += frame.size();
  return Status::Ok();
}

std::string ShardLogReplay::ToString() const {
  std::string s =
      "replayed " + std::to_string(batches) + " batches (" + std::to_string(records) + " records)";
  if (truncated_bytes > 0) {
    s += "; truncated a torn tail of " + std::to_string(truncated_bytes) + " bytes";
  }
  return s;
}

}  // namespace sluice
