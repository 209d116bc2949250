#include "coordinator/entity_run.h"

namespace sluice::coordination {

std::vector<std::string> ReadyEntities(const WaveSpec& wave, const std::set<std::string>& started,
                                       const std::set<std::string>& finished) {
  std::vector<std::string> ready;
  for (const std::string& entity : wave.entities) {
    if (started.count(entity)) continue;
    bool parents_done = true;
    if (auto it = wave.parents.find(entity); it != wave.parents.end()) {
      for (const std::string& parent : it->second) {
        parents_done = parents_done && finished.count(parent) > 0;
      }
    }
    if (parents_done) ready.push_back(entity);
  }
  if (ready.empty()) {
    bool running = false;
    for (const std::string& s : started) running = running || !finished.count(s);
    if (!running) {
      for (const std::string& entity : wave.entities) {
        if (!started.count(entity)) return {entity};
      }
    }
  }
  return ready;
}

}  // namespace sluice::coordination
