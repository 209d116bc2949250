// sluice-extractor: reads legacy sources into record batches.
#include "extractor/extract_worker.h"

int main(int argc, char** argv) {
  auto options = sluice::ParseWorkerFlags("extractor", argc, argv);
  sluice::ExtractLogic logic;
  return sluice::RunWorker(options, logic);
}
