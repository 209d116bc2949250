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

v1::Fate ExtractReject(const std::string& source, const std::string& key, uint64_t line,
                       std::string_view raw, const std::string& rule, const std::string& reason) {
  v1::Fate fate;
  fate.set_kind(v1::FATE_REJECTED);
  fate.set_source(source);
  fate.set_key(key);
  fate.set_stage("extract");
  fate.set_rule(rule);
  fate.set_reason(reason);
  fate.set_line(line);
  fate.set_value(RejectValue(raw));
  return fate;
}

}  // namespace sluice
