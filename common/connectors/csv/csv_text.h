// The bytes a CSV source scans in place: a UTF-8 file mapped whole, or a
// file in another encoding converted to UTF-8 a window at a time, so that
// memory does not grow with the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/connectors/text/text_decoder.h"
#include "common/core/status.h"

namespace sluice {

class CsvText {
 public:
  // Opens `path`; `decoder` converts it (identity for UTF-8, then the file is
  // mapped). NotFound or IoError naming the path.
  static Result<std::unique_ptr<CsvText>> Open(const std::string& path, const TextDecoder& decoder);
  ~CsvText();
  CsvText(const CsvText&) = delete;
  CsvText& operator=(const CsvText&) = delete;

  // The text held now (UTF-8): the whole file, or a window of it.
  std::string_view data() const;
  // True when data() reaches the end of the file: a row that touches its
  // end ends there. Always true for a mapped file.
  bool at_eof() const { return eof_; }

  // Drops data() before position `from` and converts more of the file after
  // it; with `grow`, the window's capacity doubles first (a row longer than
  // the window). Position `from` is 0 afterwards. IoError on a read error.
  Status Advance(size_t from, bool grow);
  // Positions data() at byte `offset` of the file (a window is refilled
  // from there). Returns the position of `offset` in data().
  Result<size_t> Seek(uint64_t offset);

  // Gives the pages of a mapped file before position `pos` of data() back to
  // the system: read once, they would stay resident and count in the
  // extractor's RSS up to the file's size (a later Seek reads them from the
  // file again). Does nothing for a window or a copy.
  void Release(size_t pos);

  // The byte offset in the file of position `pos` of data().
  uint64_t FileOffset(size_t pos) const;
  // The line breaks in bytes [from, to) of the file.
  Result<uint64_t> CountLineEnds(uint64_t from, uint64_t to) const;
  // Why the byte at position `pos` of data() is not valid UTF-8: "cannot
  // convert byte 0x81 from windows-1252 at byte <file offset>", or "invalid
  // utf-8 at byte <file offset>".
  std::string InvalidByteReason(size_t pos) const;

 private:
  CsvText() = default;
  Status Fill();  // converts file bytes into window_ up to capacity_ or EOF

  std::string path_;
  TextDecoder decoder_;
  int fd_ = -1;
  // A mapped UTF-8 file (or a pipe read whole).
  void* map_ = nullptr;
  size_t size_ = 0;
  size_t released_ = 0;  // map_'s bytes [0, released_) given back
  std::string copy_;
  // The window of a converted file: window_ holds the text of file bytes
  // [window_offset_, read_offset_); bad_ its unconvertible bytes
  // (out_offset in window_, in_offset in the file).
  bool windowed_ = false;
  bool eof_ = true;
  std::string window_;
  uint64_t window_offset_ = 0;
  uint64_t read_offset_ = 0;
  size_t capacity_ = 1 << 20;
  std::vector<UnconvertibleByte> bad_;
  std::string raw_;  // scratch: file bytes read
};

}  // namespace sluice
