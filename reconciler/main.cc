// sluice-reconciler: proves each wave against the target.
#include "reconciler/reconcile_worker.h"

int main(int argc, char** argv) {
  auto options = sluice::ParseWorkerFlags("reconciler", argc, argv);
  sluice::ReconcileLogic logic;
  return sluice::RunWorker(options, logic);
}
