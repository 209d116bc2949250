#include "reconciler/sorted_fates.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace sluice {
namespace {

// A run's read buffer: a few dozen runs at 4M records stay a few MiB.
constexpr size_t kReadBuffer = size_t{128} << 10;
constexpr size_t kWriteBuffer = size_t{1} << 20;

// What a held fate costs, roughly: the struct and its strings' bytes.
size_t Footprint(const KeyedFate& f) {
  return sizeof(KeyedFate) + f.source.size() + f.key.size() + f.rule.size() +
         f.loaded_values.size();
}

bool Before(const KeyedFate& a, const KeyedFate& b) {
  return CompareFateKeys(a, b.source, b.key) < 0;
}

void AppendString(std::string* out, const std::string& s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  out->append(s);
}

bool ReadString(std::FILE* f, std::string* s) {
  uint32_t n = 0;
  if (std::fread(&n, sizeof n, 1, f) != 1) return false;
  s->resize(n);
  return n == 0 || std::fread(s->data(), n, 1, f) == 1;
}

Status Errno(const std::string& what) {
  return Status::IoError(what + ": " + std::strerror(errno));
}

}  // namespace

int CompareFateKeys(const KeyedFate& a, std::string_view source, std::string_view key) {
  const int c = std::string_view(a.source).compare(source);
  return c != 0 ? c : std::string_view(a.key).compare(key);
}

struct SortedFates::Run {
  int fd = -1;                // while written
  std::FILE* file = nullptr;  // while read, on the same descriptor
  std::vector<char> buffer;   // the stream's
  KeyedFate head;
  ~Run() {
    if (file != nullptr) {
      std::fclose(file);
    } else if (fd >= 0) {
      close(fd);
    }
  }
};

SortedFates::SortedFates(Options options) : options_(std::move(options)) {}
SortedFates::~SortedFates() = default;

Status SortedFates::Add(KeyedFate fate) {
  if (finished_) return Status::FailedPrecondition("sorted fates: add after finish");
  ++added_;
  held_bytes_ += Footprint(fate);
  held_.push_back(std::move(fate));
  if (held_bytes_ >= options_.memory_budget) return Spill();
  return Status::Ok();
}

Status SortedFates::SortHeld() {
  // The feed sends fates in the order they were recorded, often close to
  // key order: a sorted buffer costs one pass.
  if (!std::is_sorted(held_.begin(), held_.end(), Before)) {
    std::stable_sort(held_.begin(), held_.end(), Before);
  }
  return Status::Ok();
}

Status SortedFates::Spill() {
  SLUICE_RETURN_IF_ERROR(SortHeld());
  std::string dir = options_.spill_dir;
  if (dir.empty()) dir = std::filesystem::temp_directory_path().string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string path = dir + "/fates-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return Errno("sorted fates: creating a run in " + dir);
  unlink(path.c_str());  // gone with the process, whatever happens to it
  // Written through a buffer of our own with write(2); read back later
  // through a stdio stream opened on the same descriptor.
  auto run = std::make_unique<Run>();
  run->fd = fd;
  std::string out;
  out.reserve(kWriteBuffer + 4096);
  auto flush = [&]() -> Status {
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = write(fd, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Errno("sorted fates: writing a run in " + dir);
      done += static_cast<size_t>(n);
    }
    out.clear();
    return Status::Ok();
  };
  for (const KeyedFate& f : held_) {
    AppendString(&out, f.source);
    AppendString(&out, f.key);
    AppendString(&out, f.kind);
    AppendString(&out, f.rule);
    out.append(reinterpret_cast<const char*>(&f.content_hash), sizeof f.content_hash);
    out.append(reinterpret_cast<const char*>(&f.target_id), sizeof f.target_id);
    AppendString(&out, f.loaded_values);
    if (out.size() >= kWriteBuffer) SLUICE_RETURN_IF_ERROR(flush());
  }
  SLUICE_RETURN_IF_ERROR(flush());
  runs_.push_back(std::move(run));
  held_.clear();
  held_bytes_ = 0;
  return Status::Ok();
}

Status SortedFates::Finish() {
  if (finished_) return Status::Ok();
  finished_ = true;
  SLUICE_RETURN_IF_ERROR(SortHeld());
  for (size_t i = 0; i < runs_.size(); ++i) {
    Run& run = *runs_[i];
    if (lseek(run.fd, 0, SEEK_SET) != 0) return Errno("sorted fates: rewinding a run");
    run.file = fdopen(run.fd, "rb");
    if (run.file == nullptr) return Errno("sorted fates: reading a run");
    run.buffer.resize(kReadBuffer);
    std::setvbuf(run.file, run.buffer.data(), _IOFBF, run.buffer.size());
    SLUICE_ASSIGN_OR_RETURN(bool more, Advance(i));
    if (more) heads_.push(i);
  }
  if (!held_.empty()) heads_.push(runs_.size());
  return Status::Ok();
}

Result<bool> SortedFates::Advance(size_t i) {
  Run& run = *runs_[i];
  KeyedFate& f = run.head;
  if (!ReadString(run.file, &f.source)) {
    if (std::feof(run.file) && !std::ferror(run.file)) return false;
    return Status::Corruption("sorted fates: a run reads back short");
  }
  const bool ok = ReadString(run.file, &f.key) && ReadString(run.file, &f.kind) &&
                  ReadString(run.file, &f.rule) &&
                  std::fread(&f.content_hash, sizeof f.content_hash, 1, run.file) == 1 &&
                  std::fread(&f.target_id, sizeof f.target_id, 1, run.file) == 1 &&
                  ReadString(run.file, &f.loaded_values);
  if (!ok) return Status::Corruption("sorted fates: a run reads back short");
  return true;
}

const KeyedFate& SortedFates::Head(size_t i) const {
  return i < runs_.size() ? runs_[i]->head : held_[next_held_];
}

bool SortedFates::Later::operator()(size_t a, size_t b) const {
  const KeyedFate& x = self->Head(a);
  const KeyedFate& y = self->Head(b);
  const int c = CompareFateKeys(x, y.source, y.key);
  return c != 0 ? c > 0 : a > b;  // a key's fates in the order they were added
}

Result<bool> SortedFates::Next(KeyedFate* out) {
  if (!finished_) return Status::FailedPrecondition("sorted fates: read before finish");
  if (heads_.empty()) return false;
  const size_t i = heads_.top();
  heads_.pop();
  if (i == runs_.size()) {
    *out = std::move(held_[next_held_++]);
    if (next_held_ < held_.size()) heads_.push(i);
    return true;
  }
  std::swap(*out, runs_[i]->head);
  SLUICE_ASSIGN_OR_RETURN(bool more, Advance(i));
  if (more) heads_.push(i);
  return true;
}

}  // namespace sluice
