// Pseudonyms for PII fields (issue 19, item 1): each real value replaced by
// a value of the same shape, derived deterministically from the value and a
// secret key with HMAC-SHA-256 (OpenSSL), so that the same person gets the
// same pseudonym in every run and every environment with the same key, and
// nobody without the key can recompute or reverse it.
//
// The transformer applies them to the fields marked `pii: true` under the
// plan's `pii: {mode: pseudonymise}` (transformer/pii_mask.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/core/status.h"

namespace sluice {

// Thread-safe after Create (immutable).
class Pseudonymiser {
 public:
  // InvalidArgument when `key` is shorter than 16 bytes: a short key could
  // be guessed and every pseudonym reversed by trying names.
  static Result<Pseudonymiser> Create(std::string key);

  // HMAC-SHA-256 of `value` under the key, in the `domain` ("name",
  // "email", ...) so that equal texts of different kinds differ.
  std::array<uint8_t, 32> Mac(std::string_view domain, std::string_view value) const;

  // Each word of a name (letters, split at blanks, hyphens and apostrophes)
  // replaced by a name from a fixed list of 128, keeping the separators and
  // the word's case style (UPPER, Capitalised, lower): "Jean-Pierre MARTIN"
  // -> "Noah-Ilse LEROY".
  std::string Name(std::string_view value) const;
  // "<16 hex digits>@example.invalid" (RFC 2606: never delivered).
  std::string Email(std::string_view value) const;
  // A number with the same country code and as many digits: an E.164 or
  // international number keeps its "+" and country code (libphonenumber),
  // other digits are replaced and other characters kept ("06 12 34 56 78"
  // -> "03 91 77 20 45").
  std::string Phone(std::string_view value) const;
  // The same pattern of letters and digits: each digit replaced by a digit,
  // each ASCII letter by a letter of the same case, anything else kept
  // ("FR12345678901" -> "QK90417265513").
  std::string Identifier(std::string_view value) const;
  // An ISO date (YYYY-MM-DD) moved by an offset of up to 180 days derived
  // from `offset_key`, wrapped within its year so the year is kept; `value`
  // unchanged when it is not an ISO date. The mask passes the date's year
  // and month: equal dates of one person in two sources stay equal.
  std::string Date(std::string_view value, std::string_view offset_key) const;

 private:
  explicit Pseudonymiser(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace sluice
