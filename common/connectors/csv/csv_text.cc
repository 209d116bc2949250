#include "common/connectors/csv/csv_text.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice {
namespace {

// Characters (UTF-8 lead bytes, and the 0xFF marking an unconvertible
// byte) in `text`: the file bytes it was converted from.
uint64_t CountChars(std::string_view text) {
  uint64_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

Result<std::unique_ptr<CsvText>> CsvText::Open(const std::string& path,
                                               const TextDecoder& decoder) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::IoError(path + ": not a readable file");
  }
  auto text = std::unique_ptr<CsvText>(new CsvText());
  text->path_ = path;
  text->decoder_ = decoder;
  text->fd_ = fd;
  if (!decoder.is_utf8() && S_ISREG(st.st_mode)) {
    text->windowed_ = true;
    text->eof_ = false;
    SLUICE_RETURN_IF_ERROR(text->Fill());
    return text;
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (decoder.is_utf8() && size > 0 && S_ISREG(st.st_mode)) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      ::madvise(map, size, MADV_SEQUENTIAL);
      text->map_ = map;
      text->size_ = size;
      return text;
    }
  }
  // Pipes, special files, or a failed mapping: read it all (and convert it).
  std::string bytes;
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) bytes.append(buf, static_cast<size_t>(n));
  if (n < 0) return Status::IoError(path + ": " + std::strerror(errno));
  decoder.Decode(bytes, &text->copy_, &text->bad_);
  return text;
}

CsvText::~CsvText() {
  if (map_ != nullptr) ::munmap(map_, size_);
  if (fd_ >= 0) ::close(fd_);
}

void CsvText::Release(size_t pos) {
  if (map_ == nullptr) return;
  static const size_t kPage = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t end = std::min(pos, size_) / kPage * kPage;
  // In steps of 64 MiB at least: one call per many batches.
  if (end < released_ + (size_t{64} << 20)) return;
  ::madvise(static_cast<char*>(map_) + released_, end - released_, MADV_DONTNEED);
  released_ = end;
}

std::string_view CsvText::data() const {
  if (windowed_) return window_;
  if (map_ != nullptr) return {static_cast<const char*>(map_), size_};
  return copy_;
}

Status CsvText::Fill() {
  raw_.resize(1 << 18);
  while (!eof_ && window_.size() < capacity_) {
    ssize_t n = ::pread(fd_, raw_.data(), raw_.size(), static_cast<off_t>(read_offset_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(path_ + ": " + std::strerror(errno));
    }
    if (n == 0) {
      eof_ = true;
      break;
    }
    const size_t first_bad = bad_.size();
    decoder_.Decode({raw_.data(), static_cast<size_t>(n)}, &window_, &bad_);
    for (size_t i = first_bad; i < bad_.size(); ++i) bad_[i].in_offset += read_offset_;
    read_offset_ += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status CsvText::Advance(size_t from, bool grow) {
  if (!windowed_) return Status::Ok();
  if (grow) capacity_ *= 2;
  window_offset_ += CountChars(std::string_view(window_).substr(0, from));
  window_.erase(0, from);
  auto kept = std::remove_if(bad_.begin(), bad_.end(),
                             [&](const UnconvertibleByte& u) { return u.out_offset < from; });
  bad_.erase(kept, bad_.end());
  for (UnconvertibleByte& u : bad_) u.out_offset -= from;
  return Fill();
}

Result<size_t> CsvText::Seek(uint64_t offset) {
  if (!windowed_) return static_cast<size_t>(offset);
  window_.clear();
  bad_.clear();
  window_offset_ = read_offset_ = offset;
  eof_ = false;
  SLUICE_RETURN_IF_ERROR(Fill());
  return size_t{0};
}

uint64_t CsvText::FileOffset(size_t pos) const {
  if (!windowed_) return pos;
  return window_offset_ + CountChars(std::string_view(window_).substr(0, pos));
}

Result<uint64_t> CsvText::CountLineEnds(uint64_t from, uint64_t to) const {
  if (!windowed_) {
    std::string_view d = data().substr(0, to);
    return static_cast<uint64_t>(
        std::count(d.begin() + std::min<uint64_t>(from, d.size()), d.end(), '\n'));
  }
  uint64_t lines = 0;
  std::string chunk(1 << 16, '\0');
  while (from < to) {
    ssize_t n = ::pread(fd_, chunk.data(), std::min<uint64_t>(chunk.size(), to - from),
                        static_cast<off_t>(from));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(path_ + ": " + std::strerror(errno));
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i)
      lines += decoder_.IsLineEnd(static_cast<unsigned char>(chunk[i]));
    from += static_cast<uint64_t>(n);
  }
  return lines;
}

std::string CsvText::InvalidByteReason(size_t pos) const {
  auto it = std::lower_bound(
      bad_.begin(), bad_.end(), pos,
      [](const UnconvertibleByte& u, size_t offset) { return u.out_offset < offset; });
  if (it != bad_.end() && it->out_offset == pos) return decoder_.Reason(it->byte, it->in_offset);
  return "invalid utf-8 at byte " + std::to_string(FileOffset(pos));
}

}  // namespace sluice
