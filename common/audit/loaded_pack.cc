#include "common/audit/loaded_pack.h"

#include <cstring>

namespace sluice {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetBytes(std::string_view* in, std::string_view* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

bool IsPackedLoad(const v1::Fate& f) {
  return f.kind() == v1::FATE_LOADED && f.stage() == "load" && f.field().empty() &&
         f.reason().empty() && f.suggestion().empty() && f.survivor_source().empty() &&
         f.survivor_key().empty();
}

void LoadedPackWriter::Add(const PackedLoad& load) {
  PutBytes(&bytes_, load.source);
  PutBytes(&bytes_, load.key);
  PutVarint(&bytes_, static_cast<uint64_t>(load.target_id));
  char hash[8];
  std::memcpy(hash, &load.content_hash, sizeof hash);
  bytes_.append(hash, sizeof hash);
  PutBytes(&bytes_, load.loaded_values);
  ++fates_;
}

bool LoadedPackReader::Next(PackedLoad* load) {
  if (rest_.empty() || corrupt_) return false;
  uint64_t target_id = 0;
  if (!GetBytes(&rest_, &load->source) || !GetBytes(&rest_, &load->key) ||
      !GetVarint(&rest_, &target_id) || rest_.size() < 8) {
    corrupt_ = true;
    return false;
  }
  load->target_id = static_cast<int64_t>(target_id);
  std::memcpy(&load->content_hash, rest_.data(), 8);
  rest_.remove_prefix(8);
  if (!GetBytes(&rest_, &load->loaded_values)) {
    corrupt_ = true;
    return false;
  }
  return true;
}

void LoadedWireWriter::AddHead(std::string_view source, std::string_view key, int64_t target_id,
                               uint64_t content_hash, std::string_view rule, std::string_view value,
                               uint64_t line) {
  PutBytes(out_, source);
  PutBytes(out_, key);
  PutVarint(out_, static_cast<uint64_t>(target_id));
  char hash[8];
  std::memcpy(hash, &content_hash, sizeof hash);
  out_->append(hash, sizeof hash);
  PutBytes(out_, rule);
  PutBytes(out_, value);
  PutVarint(out_, line);
  // The values' length goes in front of them once they are appended: a
  // fixed 4 bytes, so that nothing moves (FinishValues).
  out_->append(4, '\0');
}

void LoadedWireWriter::FinishValues(size_t at) {
  const auto n = static_cast<uint32_t>(out_->size() - at);
  std::memcpy(out_->data() + at - 4, &n, 4);
}

bool LoadedWireReader::Next(WireLoad* w) {
  if (rest_.empty() || corrupt_) return false;
  uint64_t target_id = 0;
  uint32_t n = 0;
  PackedLoad& load = w->load;
  if (!GetBytes(&rest_, &load.source) || !GetBytes(&rest_, &load.key) ||
      !GetVarint(&rest_, &target_id) || rest_.size() < 8) {
    corrupt_ = true;
    return false;
  }
  load.target_id = static_cast<int64_t>(target_id);
  std::memcpy(&load.content_hash, rest_.data(), 8);
  rest_.remove_prefix(8);
  if (!GetBytes(&rest_, &w->rule) || !GetBytes(&rest_, &w->value) || !GetVarint(&rest_, &w->line) ||
      rest_.size() < 4) {
    corrupt_ = true;
    return false;
  }
  std::memcpy(&n, rest_.data(), 4);
  rest_.remove_prefix(4);
  if (n > rest_.size()) {
    corrupt_ = true;
    return false;
  }
  load.loaded_values = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return true;
}

std::vector<v1::Fate> AllFatesOf(const v1::Commit& commit) {
  std::vector<v1::Fate> out(commit.fates().begin(), commit.fates().end());
  ForEachWireLoad(commit, [&](const WireLoad& w) {
    v1::Fate& f = out.emplace_back();
    f.set_kind(v1::FATE_LOADED);
    f.set_source(std::string(w.load.source));
    f.set_key(std::string(w.load.key));
    f.set_stage("load");
    f.set_rule(std::string(w.rule));
    f.set_value(std::string(w.value));
    f.set_line(w.line);
    f.set_target_id(w.load.target_id);
    f.set_content_hash(w.load.content_hash);
    f.set_loaded_values(std::string(w.load.loaded_values));
  });
  return out;
}

}  // namespace sluice
