// sluice-transformer: maps source records onto the canonical model.
#include "transformer/transform_worker.h"

int main(int argc, char** argv) {
  auto options = sluice::ParseWorkerFlags("transformer", argc, argv);
  sluice::TransformLogic logic;
  return sluice::RunWorker(options, logic);
}
