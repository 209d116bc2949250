// sluice-validator: checks records against the plan's rules.
#include "validator/validate_worker.h"

int main(int argc, char** argv) {
  auto options = sluice::ParseWorkerFlags("validator", argc, argv);
  sluice::ValidateLogic logic;
  return sluice::RunWorker(options, logic);
}
