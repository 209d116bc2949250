// Hashing, defined once: record content hashes, key hashes and the
// order-independent key checksum used by the ledger.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

// xxh64 with sluice's fixed seed.
uint64_t Hash64(std::string_view bytes);

// Hash of a record's identity: its source system and its key.
uint64_t KeyHash(std::string_view source, std::string_view key);

// Order-independent checksum over a multiset of keys: the wrapping sum of
// their KeyHash. Adding and removing keys commute, so a stage's input checksum
// equals the sum of its output, merged and rejected checksums.
class KeyChecksum {
 public:
  void Add(std::string_view source, std::string_view key) { sum_ += KeyHash(source, key); }
  void AddHash(uint64_t h) { sum_ += h; }
  void Merge(const KeyChecksum& other) { sum_ += other.sum_; }
  uint64_t value() const { return sum_; }

 private:
  uint64_t sum_ = 0;
};

}  // namespace sluice
