#include "common/connectors/text/utf8_text.h"

namespace sluice {

std::string RejectValue(std::string_view text) {
  std::string out = ToValidUtf8(text.substr(0, kMaxRejectValue));
  if (out.size() > kMaxRejectValue) {
    size_t cut = kMaxRejectValue;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace sluice
