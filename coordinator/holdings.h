// What each worker holds now, as `sluice status` shows it in its "holding"
// column (issue 15; docs/operations.md#watching-a-run): the lease the
// coordinator handed it and it has not answered yet. A lease is answered by
// the message that ends it: the extraction of a source by the stream's end,
// a re-extraction, resolve round or resend by its commit, a reconciliation
// by its result, each under the lease's epoch. A worker that registers
// again holds nothing. Streaming stages (transform, ingest, validate, load)
// pull their batches over the data plane: the coordinator never knows what
// they hold, so it shows nothing for them rather than a batch they finished.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

class Holdings {
 public:
  // `identity` was handed `lease`; it replaces what it held.
  void Leased(const std::string& identity, const v1::Lease& lease);
  // A message from `identity`: when it answers the lease it holds, it holds
  // nothing from then on.
  void Heard(const std::string& identity, const v1::Envelope& env);
  // `identity` registered again (a new process): it holds nothing.
  void Forget(const std::string& identity) { held_.erase(identity); }
  // What `identity` holds, for people ("resolving hcp"); "" when nothing.
  std::string Of(const std::string& identity) const;

 private:
  struct Held {
    v1::Lease::Kind kind = v1::Lease::KIND_UNSPECIFIED;
    uint64_t epoch = 0;
    std::string text;
  };
  static bool Answers(const Held& held, const v1::Envelope& env);

  std::map<std::string, Held> held_;
};

}  // namespace sluice::coordination
