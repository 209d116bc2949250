#include "coordinator/run_controller.h"

#include "coordinator/coordinator.h"

namespace sluice {

Result<RunSummary> RunPlan(const Plan& plan, const RunOptions& options) {
  coordination::Coordinator c(plan, options);  // the system clock, a ZeroMQ ROUTER
  return c.Run();
}

}  // namespace sluice
