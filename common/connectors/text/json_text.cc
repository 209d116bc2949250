#include "common/connectors/text/json_text.h"

#include "common/connectors/text/utf8_text.h"
#include "common/core/limits.h"

namespace sluice {

int JsonDepth(std::string_view text, int stop) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {  // skip the string, escapes included
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) >= stop) return stop;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

Result<nlohmann::json> ParseJson(std::string_view text) {
  if (JsonDepth(text, limits::kMaxJsonDepth + 1) > limits::kMaxJsonDepth) {
    return Status::InvalidArgument("JSON nested deeper than " +
                                   std::to_string(limits::kMaxJsonDepth) + " levels");
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // The message quotes the text near the mistake, invalid bytes included.
    return Status::InvalidArgument(std::string("invalid JSON: ") + ToValidUtf8(e.what()));
  }
}

}  // namespace sluice
