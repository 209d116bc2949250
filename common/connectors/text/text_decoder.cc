#include "common/connectors/text/text_decoder.h"

#include <unicode/ucnv.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

namespace sluice {
namespace {

struct ConverterCloser {
  void operator()(UConverter* c) const { ucnv_close(c); }
};

// `cp` as UTF-8 into `out`; returns its length (1 to 3: a single byte of a
// single-byte encoding is never outside the BMP).
uint8_t EncodeUtf8(UChar cp, std::array<char, 4>* out) {
  auto& o = *out;
  if (cp < 0x80) {
    o[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    o[0] = static_cast<char>(0xC0 | (cp >> 6));
    o[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  o[0] = static_cast<char>(0xE0 | (cp >> 12));
  o[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  o[2] = static_cast<char>(0x80 | (cp & 0x3F));
  return 3;
}

}  // namespace

Result<TextDecoder> TextDecoder::Create(std::string_view encoding) {
  TextDecoder decoder;
  if (encoding.empty()) return decoder;
  const std::string name(encoding);
  if (ucnv_compareNames(name.c_str(), "utf-8") == 0) {
    decoder.name_ = name;
    return decoder;
  }
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<UConverter, ConverterCloser> conv(ucnv_open(name.c_str(), &err));
  if (U_FAILURE(err) || conv == nullptr) {
    return Status::InvalidArgument("unknown encoding '" + name +
                                   "' (e.g. utf-8, windows-1252, iso-8859-1, iso-8859-15, "
                                   "cp850, cp037)");
  }
  if (ucnv_getMaxCharSize(conv.get()) != 1 || ucnv_getMinCharSize(conv.get()) != 1) {
    return Status::InvalidArgument("encoding '" + name +
                                   "' is not a single-byte encoding; only utf-8 and "
                                   "single-byte encodings are supported");
  }
  // Unassigned and illegal bytes stop the conversion instead of becoming
  // U+FFFD or U+001A: they are what the sources reject.
  ucnv_setToUCallBack(conv.get(), UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &err);
  if (U_FAILURE(err)) return Status::Internal("icu: " + std::string(u_errorName(err)));
  decoder.utf8_ = false;
  decoder.name_ = name;
  for (int b = 0; b < 256; ++b) {
    const char in = static_cast<char>(b);
    UChar out[4];
    err = U_ZERO_ERROR;
    ucnv_reset(conv.get());
    int32_t n = ucnv_toUChars(conv.get(), out, 4, &in, 1, &err);
    if (U_FAILURE(err) || n != 1) continue;  // len_ stays 0: unconvertible
    UChar cp = out[0];
    // EBCDIC NL (0x15) is the line end of z/OS text files.
    if (cp == 0x85 && b == 0x15) cp = '\n';
    // ICU maps the holes of windows-1252 (0x81, 0x8D, ...) to C1 controls,
    // as Windows does; no business text holds a C1 control, and one read
    // from iso-8859-1 mostly means the file is really windows-1252: reject.
    if (cp >= 0x80 && cp <= 0x9F) continue;
    decoder.len_[b] = EncodeUtf8(cp, &decoder.utf8_of_[b]);
  }
  decoder.ascii_identity_ = true;
  for (int b = 0; b < 0x80; ++b) {
    if (decoder.len_[b] != 1 || decoder.utf8_of_[b][0] != static_cast<char>(b)) {
      decoder.ascii_identity_ = false;
    }
  }
  return decoder;
}

size_t TextDecoder::Decode(std::string_view in, std::string* out,
                           std::vector<UnconvertibleByte>* bad) const {
  if (utf8_) {
    out->append(in);
    return 0;
  }
  size_t n_bad = 0;
  out->reserve(out->size() + in.size() + in.size() / 8);
  for (size_t i = 0; i < in.size(); ++i) {
    if (ascii_identity_) {
      // Runs of ASCII bytes convert to themselves: copied whole.
      size_t run = i;
      while (run < in.size() && static_cast<unsigned char>(in[run]) < 0x80) ++run;
      out->append(in.data() + i, run - i);
      i = run;
      if (i == in.size()) break;
    }
    const auto b = static_cast<unsigned char>(in[i]);
    const uint8_t len = len_[b];
    if (len == 1) {
      out->push_back(utf8_of_[b][0]);
    } else if (len > 1) {
      out->append(utf8_of_[b].data(), len);
    } else {
      if (bad != nullptr) bad->push_back({i, out->size(), b});
      out->push_back('\xFF');
      ++n_bad;
    }
  }
  return n_bad;
}

std::string TextDecoder::Reason(unsigned char byte, uint64_t offset) const {
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02X", byte);
  return "cannot convert byte " + std::string(hex) + " from " + name_ + " at byte " +
         std::to_string(offset);
}

char FileLineEnd(const TextDecoder& decoder, const std::string& path) {
  char sample[1 << 16];
  std::ifstream in(path, std::ios::binary);
  in.read(sample, sizeof(sample));
  for (std::streamsize i = 0; i < in.gcount(); ++i) {
    if (decoder.IsLineEnd(static_cast<unsigned char>(sample[i]))) return sample[i];
  }
  return '\n';
}

std::string DecodeLine(const TextDecoder& decoder, std::string* line, uint64_t offset) {
  if (decoder.is_utf8()) return "";
  std::string out;
  std::vector<UnconvertibleByte> bad;
  decoder.Decode(*line, &out, &bad);
  std::string reason;
  if (!bad.empty()) {
    reason = decoder.Reason(bad[0].byte, offset + bad[0].in_offset);
    std::string clean;
    size_t from = 0;
    for (const UnconvertibleByte& u : bad) {
      clean.append(out, from, u.out_offset - from).append("\xEF\xBF\xBD");
      from = u.out_offset + 1;
    }
    out = clean.append(out, from, std::string::npos);
  }
  *line = std::move(out);
  return reason;
}

}  // namespace sluice
