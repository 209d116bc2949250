// sluice-deduper: one dedup shard.
#include "deduper/dedup_worker.h"

int main(int argc, char** argv) {
  auto options = sluice::ParseWorkerFlags("deduper", argc, argv);
  sluice::DedupLogic logic;
  return sluice::RunWorker(options, logic);
}
