#include "common/core/redact.h"

#include <algorithm>
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

}  // namespace sluice
