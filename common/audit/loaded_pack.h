// A loader commit's LOADED fates in one blob (issue 20): what the
// reconciler's feed reads of each (source, key, target id, content hash and
// loaded values), one after the other in the commit's order. The audit store
// keeps one such pack per loader commit instead of a fate row per record;
// the per-record columns that `sluice trace` and the key lookups need are in
// the narrow table `loaded_keys` (audit_loaded.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/v1/control.pb.h"

namespace sluice {

// Whether the audit store keeps `fate` in a pack: a LOADED fate of the load
// stage with nothing but what a pack and `loaded_keys` hold. Any other fate
// (and a LOADED one with more in it) keeps a row of its own in `fates`.
bool IsPackedLoad(const v1::Fate& fate);

// One LOADED fate as a pack holds it. Views into the pack's bytes.
struct PackedLoad {
  std::string_view source;
  std::string_view key;
  int64_t target_id = 0;
  uint64_t content_hash = 0;
  std::string_view loaded_values;  // canonical encoding (issue 17); "" none
};

// Appends fates to a pack. Not thread-safe.
class LoadedPackWriter {
 public:
  void Add(const PackedLoad& load);
  // Room for `bytes` more bytes, so that adding grows the pack at most once.
  void Reserve(size_t bytes) { bytes_.reserve(bytes_.size() + bytes); }
  // The bytes Add takes for `load`, at most.
  static size_t MaxBytes(const PackedLoad& load) {
    return load.source.size() + load.key.size() + load.loaded_values.size() + 8 + 4 * 10;
  }
  size_t fates() const { return fates_; }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  size_t fates_ = 0;
};

// Reads a pack back in the order it was written. The views it fills stay
// valid as long as the bytes it reads.
class LoadedPackReader {
 public:
  explicit LoadedPackReader(std::string_view bytes) : rest_(bytes) {}
  // Fills `load` with the next fate: false at the end, or when the bytes are
  // cut short or malformed (then `corrupt()` is true).
  bool Next(PackedLoad* load);
  bool corrupt() const { return corrupt_; }

 private:
  std::string_view rest_;
  bool corrupt_ = false;
};

// One plain LOADED fate as a loader commit carries it on the wire
// (v1::Commit.loaded_fates, issue 20): a pack's columns and those of its
// `loaded_keys` row. Views into the commit's bytes.
struct WireLoad {
  PackedLoad load;
  std::string_view rule;   // inserted | updated | unchanged ("" unknown)
  std::string_view value;  // the parents' target ids (issue 14), "" none
  uint64_t line = 0;
};

// Appends plain LOADED fates to a commit's `loaded_fates` bytes, instead of
// a v1::Fate each: one string for the whole batch to build, send and parse.
// Not thread-safe.
class LoadedWireWriter {
 public:
  explicit LoadedWireWriter(std::string* out) : out_(out) {}
  // `values` is appended by `encode_values(std::string*)` (it appends the
  // canonical encoding), so the values need no string of their own.
  template <typename EncodeValues>
  void Add(std::string_view source, std::string_view key, int64_t target_id, uint64_t content_hash,
           std::string_view rule, std::string_view value, uint64_t line,
           EncodeValues&& encode_values) {
    AddHead(source, key, target_id, content_hash, rule, value, line);
    const size_t at = out_->size();
    encode_values(out_);
    FinishValues(at);
  }

 private:
  void AddHead(std::string_view source, std::string_view key, int64_t target_id,
               uint64_t content_hash, std::string_view rule, std::string_view value, uint64_t line);
  // Puts the length of the values appended from `at` in front of them.
  void FinishValues(size_t at);
  std::string* out_;
};

// Reads a commit's `loaded_fates` in order; `corrupt()` as LoadedPackReader.
class LoadedWireReader {
 public:
  explicit LoadedWireReader(std::string_view bytes) : rest_(bytes) {}
  bool Next(WireLoad* load);
  bool corrupt() const { return corrupt_; }

 private:
  std::string_view rest_;
  bool corrupt_ = false;
};

// Calls `fn(const WireLoad&)` for every packed LOADED fate of `commit`;
// Corruption when its bytes are damaged (nothing recorded from it must then
// be believed).
template <typename Fn>
bool ForEachWireLoad(const v1::Commit& commit, Fn&& fn) {
  LoadedWireReader reader(commit.loaded_fates());
  WireLoad load;
  while (reader.Next(&load)) fn(load);
  return !reader.corrupt();
}

// Every fate of `commit`: its fate messages, then its packed LOADED fates
// as the v1::Fate each stood for (kind loaded, stage load). For readers that
// want them all alike (tests, tools); not for millions of records.
std::vector<v1::Fate> AllFatesOf(const v1::Commit& commit);

}  // namespace sluice
