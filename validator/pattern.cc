#include "validator/pattern.h"

namespace sluice {

Result<Pattern> Pattern::Compile(const std::string& pattern) {
  Pattern p;
  p.text_ = pattern;
  try {
    p.re_ =
        std::make_shared<const std::regex>(pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return Status::InvalidArgument("bad regex '" + pattern + "': " + e.what());
  }
  return p;
}

bool Pattern::Matches(std::string_view text) const {
  return std::regex_search(text.data(), text.data() + text.size(), *re_);
}

}  // namespace sluice
