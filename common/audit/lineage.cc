#include "common/audit/lineage.h"

namespace sluice {
namespace {

constexpr char kMagic = 'M';  // format 2: values interned

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Length + 1, or 0 for NULL.
void PutOptional(std::string* out, const std::optional<std::string_view>& s) {
  if (!s) {
    PutVarint(out, 0);
    return;
  }
  PutVarint(out, s->size() + 1);
  out->append(s->data(), s->size());
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && pos_ < b_.size(); shift += 7) {
      const auto byte = static_cast<unsigned char>(b_[pos_++]);
      *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return true;
    }
    return false;
  }
  bool Bytes(size_t n, std::string* out) {
    if (n > b_.size() - pos_) return false;
    out->assign(b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Optional(std::optional<std::string>* out) {
    uint64_t n = 0;
    if (!Varint(&n)) return false;
    if (n == 0) {
      out->reset();
      return true;
    }
    out->emplace();
    return Bytes(n - 1, &**out);
  }
  bool Byte(char* c) {
    if (pos_ >= b_.size()) return false;
    *c = b_[pos_++];
    return true;
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace

uint32_t LineageWriter::Intern(std::string_view name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

void LineageWriter::Add(std::string_view key, std::string_view field, std::string_view rule,
                        const std::optional<std::string_view>& before,
                        const std::optional<std::string_view>& after) {
  // A key equal to the previous change's is written as NULL (0).
  if (count_ > 0 && key == last_key_) {
    PutOptional(&entries_, std::nullopt);
  } else {
    PutOptional(&entries_, key);
    last_key_.assign(key.data(), key.size());
  }
  PutVarint(&entries_, Intern(field));
  PutVarint(&entries_, Intern(rule));
  // Values are interned too: mapped codes and defaults repeat in every
  // record ("CARD" -> "cardiology"), and a unique value costs one id more.
  PutVarint(&entries_, before ? Intern(*before) + 1 : 0);
  PutVarint(&entries_, after ? Intern(*after) + 1 : 0);
  ++count_;
}

std::string LineageWriter::Finish() {
  std::string out;
  if (count_ > 0) {
    out.push_back(kMagic);
    PutVarint(&out, names_.size());
    for (const auto& n : names_) PutOptional(&out, n);
    PutVarint(&out, count_);
    out += entries_;
  }
  ids_.clear();
  names_.clear();
  entries_.clear();
  last_key_.clear();
  count_ = 0;
  return out;
}

Result<std::vector<LineageChange>> DecodeLineage(std::string_view blob) {
  std::vector<LineageChange> out;
  if (blob.empty()) return out;
  Reader r(blob);
  const Status bad = Status::Corruption("malformed lineage blob");
  char magic = 0;
  if (!r.Byte(&magic) || magic != kMagic) return bad;
  uint64_t n_names = 0;
  if (!r.Varint(&n_names) || n_names > blob.size()) return bad;
  std::vector<std::string> names(n_names);
  for (auto& n : names) {
    std::optional<std::string> s;
    if (!r.Optional(&s) || !s) return bad;
    n = std::move(*s);
  }
  uint64_t count = 0;
  if (!r.Varint(&count) || count > blob.size()) return bad;
  out.reserve(count);
  std::string key;
  for (uint64_t i = 0; i < count; ++i) {
    LineageChange c;
    std::optional<std::string> k;
    uint64_t field = 0, rule = 0;
    uint64_t before = 0, after = 0;
    if (!r.Optional(&k) || !r.Varint(&field) || !r.Varint(&rule) || !r.Varint(&before) ||
        !r.Varint(&after) || field >= names.size() || rule >= names.size() ||
        before > names.size() || after > names.size()) {
      return bad;
    }
    if (before > 0) c.before = names[before - 1];
    if (after > 0) c.after = names[after - 1];
    if (k) key = std::move(*k);
    c.key = key;
    c.field = names[field];
    c.rule = names[rule];
    out.push_back(std::move(c));
  }
  if (!r.done()) return bad;
  return out;
}

}  // namespace sluice
