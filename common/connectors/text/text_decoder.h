// The `encoding:` of text sources (csv, jsonl, fixed_width): legacy
// single-byte encodings converted to UTF-8 with ICU's conversion tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace sluice {

// A byte the source's encoding cannot convert (windows-1252 0x81, ...).
struct UnconvertibleByte {
  size_t in_offset = 0;   // in the bytes given to Decode
  size_t out_offset = 0;  // of its marker in the UTF-8 output
  unsigned char byte = 0;
};

// Converts the text of one encoding to UTF-8. Built once per source from
// ICU's table for the encoding (each of the 256 byte values converted by
// ICU), then a table lookup per byte. Only single-byte encodings are
// supported: windows-1252, iso-8859-1, iso-8859-15, cp850, EBCDIC cp037 and
// the other single-byte converters ICU knows. In EBCDIC encodings the NL
// byte (0x15) is a line break, as z/OS writes text files. A byte ICU
// cannot convert, or converts to a C1 control (U+0080-U+009F: the holes of
// windows-1252, 0x80-0x9F of iso-8859-1), is unconvertible. Copyable;
// immutable after Create, so thread-safe.
class TextDecoder {
 public:
  // The decoder of `encoding` (an ICU name or alias, case-insensitive;
  // "utf-8" and "" give the identity). InvalidArgument naming the
  // encoding when ICU does not know it or it is not single-byte.
  static Result<TextDecoder> Create(std::string_view encoding);
  // The UTF-8 identity.
  TextDecoder() = default;

  // True for UTF-8: Decode copies the bytes unchanged (the sources check
  // UTF-8 themselves).
  bool is_utf8() const { return utf8_; }
  // True when byte `b` converts to a line break ('\n'): '\n' in ASCII
  // encodings, NL (0x15) and LF (0x25) in EBCDIC.
  bool IsLineEnd(unsigned char b) const {
    return utf8_ ? b == '\n' : len_[b] == 1 && utf8_of_[b][0] == '\n';
  }
  // The encoding as the plan spelled it ("utf-8" when none).
  const std::string& name() const { return name_; }

  // Appends `in`, converted to UTF-8, to `*out`. Each byte the encoding
  // cannot convert becomes the byte 0xFF in `*out` (never valid UTF-8, so
  // the row holding it fails the sources' UTF-8 check) and is appended to
  // `*bad` when not null. Returns the number of such bytes.
  size_t Decode(std::string_view in, std::string* out,
                std::vector<UnconvertibleByte>* bad = nullptr) const;

  // "cannot convert byte 0x81 from windows-1252 at byte 1234": the reason
  // of a rejected row; `offset` is the byte's offset in the source file.
  std::string Reason(unsigned char byte, uint64_t offset) const;

 private:
  bool utf8_ = true;
  bool ascii_identity_ = false;  // bytes 0x00-0x7F convert to themselves
  std::string name_ = "utf-8";
  // Per byte value: its UTF-8 (1 to 3 bytes) and length; 0 = unconvertible.
  std::array<std::array<char, 4>, 256> utf8_of_{};
  std::array<uint8_t, 256> len_{};
};

// The byte that ends the lines of the file at `path` in `decoder`'s
// encoding: the first byte converting to a line break in its first 64 KiB
// ('\n' when there is none, or the file cannot be read); an EBCDIC file
// may end its lines with NL (0x15) or LF (0x25).
char FileLineEnd(const TextDecoder& decoder, const std::string& path);

// Converts one line read from byte `offset` of a file to UTF-8 in place.
// Returns "" or the reason (TextDecoder::Reason) of its first unconvertible
// byte, which becomes U+FFFD in `*line`. Unchanged for UTF-8.
std::string DecodeLine(const TextDecoder& decoder, std::string* line, uint64_t offset);

}  // namespace sluice
