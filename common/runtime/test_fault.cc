#include "common/runtime/test_fault.h"

#include <charconv>

namespace sluice {
namespace {

Result<uint64_t> Count(const std::string& spec, const std::string& value) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    return Status::InvalidArgument("test fault '" + spec + "': '" + value + "' is not a count");
  }
  return n;
}

}  // namespace

Result<TestFaults> ParseTestFaults(const std::string& spec) {
  TestFaults faults;
  if (spec.empty()) return faults;
  const size_t eq = spec.find('=');
  const std::string name = spec.substr(0, eq);
  const std::optional<std::string> value =
      eq == std::string::npos ? std::nullopt : std::optional(spec.substr(eq + 1));
  if (name == "sigkill_in_round4" || name == "sigkill_in_preround" ||
      name == "elect_invalid_survivors") {
    if (value) return Status::InvalidArgument("test fault '" + spec + "' takes no value");
    (name == "sigkill_in_round4"     ? faults.sigkill_in_round4
     : name == "sigkill_in_preround" ? faults.sigkill_in_preround
                                     : faults.elect_invalid_survivors) = true;
    return faults;
  }
  if (!value) return Status::InvalidArgument("test fault '" + spec + "' needs a value (NAME=V)");
  if (name == "sigkill_after") {
    SLUICE_ASSIGN_OR_RETURN(faults.sigkill_after, Count(spec, *value));
  } else if (name == "sigkill_before_output") {
    SLUICE_ASSIGN_OR_RETURN(faults.sigkill_before_output, Count(spec, *value));
  } else if (name == "resolve_part_bytes") {
    SLUICE_ASSIGN_OR_RETURN(faults.resolve_part_bytes, Count(spec, *value));
  } else if (name == "sigkill_after_resolve_parts") {
    SLUICE_ASSIGN_OR_RETURN(faults.sigkill_after_resolve_parts, Count(spec, *value));
    faults.resolve_part_bytes = 1;  // one decision per part: parts to die between
  } else if (name == "drop_key" || name == "sigsegv_on_key") {
    if (value->empty()) return Status::InvalidArgument("test fault '" + spec + "' needs a key");
    (name == "drop_key" ? faults.drop_key : faults.sigsegv_on_key) = *value;
  } else if (name == "sigkill_at" || name == "stall_at") {
    const size_t colon = value->find(':');
    if (colon == std::string::npos ? *value != "resolve" && *value != "reconcile"
                                   : !Count(spec, value->substr(colon + 1)).ok()) {
      return Status::InvalidArgument("test fault '" + spec + "': " + name + "=STAGE:N, " + name +
                                     "=resolve[:N] or " + name + "=reconcile[:N]");
    }
    (name == "sigkill_at" ? faults.sigkill_at : faults.stall_at) = *value;
  } else {
    return Status::InvalidArgument(
        "unknown test fault '" + name +
        "' (sigkill_after=N, sigkill_before_output=N, sigkill_in_round4, sigkill_in_preround, "
        "resolve_part_bytes=N, "
        "sigkill_after_resolve_parts=N, "
        "elect_invalid_survivors, drop_key=K, sigkill_at=WHEN, stall_at=WHEN, sigsegv_on_key=K)");
  }
  return faults;
}

}  // namespace sluice
