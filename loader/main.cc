// sluice-loader: upserts validated batches into the target.
#include "loader/load_worker.h"

int main(int argc, char** argv) {
  auto options = sluice::ParseWorkerFlags("loader", argc, argv);
  sluice::LoadLogic logic;
  return sluice::RunWorker(options, logic);
}
