// The deduper's shard log: an append-only file of checksummed frames, one
// serialized batch per frame, synced before a batch is acknowledged.
//
// Frame layout: payload length (4 bytes, little-endian), Hash64 of the
// payload (8 bytes, little-endian), payload. A crash mid-append leaves a torn
// last frame; Open cuts it away. Damage anywhere before the last frame is
// corruption and is refused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/core/status.h"

namespace sluice {

class ShardLog {
 public:
  // What Open found in an existing file.
  struct Recovery {
    uint64_t frames = 0;           // intact frames handed to `on_frame`
    uint64_t bytes = 0;            // size of the log after recovery
    uint64_t truncated_bytes = 0;  // torn tail cut away
  };

  // Opens `path` (creating it and its folders when missing), hands every
  // intact frame to `on_frame` in file order and truncates a torn tail.
  // Fails with Corruption when a frame before the last one is damaged, and
  // with `on_frame`'s status when it refuses a frame.
  static Result<std::unique_ptr<ShardLog>> Open(
      const std::string& path, const std::function<Status(std::string_view)>& on_frame,
      Recovery* recovery);
  ~ShardLog();
  ShardLog(const ShardLog&) = delete;
  ShardLog& operator=(const ShardLog&) = delete;

  // Appends one frame and syncs it (fdatasync). On a failed write the file
  // is cut back to its previous end; after a failed sync the log refuses
  // further appends (the kernel may have dropped the dirty pages).
  Status Append(std::string_view payload);

  // Hands every frame to `on_frame` again, in file order (a second read of
  // what Open recovered and Append wrote since). Any damage is corruption.
  Status ReadAll(const std::function<Status(std::string_view)>& on_frame) const;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }

 private:
  ShardLog(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  bool broken_ = false;
};

}  // namespace sluice
