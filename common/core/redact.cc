#include "common/core/redact.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

namespace sluice {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::string> secrets;  // longest first: a secret inside another goes with it
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // never destroyed: logging may outlive statics
  return *registry;
}

}  // namespace

void RegisterSecret(std::string_view secret) {
  if (secret.empty()) return;
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (std::find(r.secrets.begin(), r.secrets.end(), secret) != r.secrets.end()) return;
  r.secrets.emplace_back(secret);
  std::stable_sort(r.secrets.begin(), r.secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redact(std::string text) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const std::string& s : r.secrets) {
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 3)) {
      text.replace(at, s.size(), "***");
    }
  }
  return text;
}

void RedactWordsOf(std::string_view real, std::string* text) {
  auto word_byte = [](unsigned char c) { return std::isalnum(c) || c >= 0x80; };
  std::vector<std::string_view> words;
  for (size_t i = 0; i < real.size();) {
    if (!word_byte(static_cast<unsigned char>(real[i]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < real.size() && word_byte(static_cast<unsigned char>(real[end]))) ++end;
    if (end - i >= 3) words.push_back(real.substr(i, end - i));
    i = end;
  }
  std::stable_sort(words.begin(), words.end(),
                   [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
  for (std::string_view w : words) {
    for (size_t at = text->find(w); at != std::string::npos; at = text->find(w, at + 3)) {
      text->replace(at, w.size(), "***");
    }
  }
}

}  // namespace sluice
