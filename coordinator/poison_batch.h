// Issue 23, item 8: a worker that crashes twice on the same batch. Without
// this, the restarted worker is handed the same work, crashes again, and the
// run ends much later as "keeps dying" or "no progress". The coordinator
// remembers, per worker, the batch its lease has it working on (an
// extraction stream advances with each batch the extractor commits); a
// second crash of the role at the same batch, with nothing of it committed
// in between, halts the run at once naming the batch, where it is in its
// source, the worker and its signal. A streaming worker (transformer,
// validator, loader, a dedup shard's ingest) holds no lease: it says which
// input batch it starts (a `start` commit) and its commit ends the work on it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

class PoisonBatchWatch {
 public:
  // `identity` was handed `lease`: it works on the lease's batch.
  void Leased(const std::string& identity, const v1::Lease& lease);
  // `identity`, a streaming worker (it pulls its input over the data plane),
  // starts on the input batch of its `start` commit (crash_trail.h); it
  // replaces the input batch it was on.
  void Started(const std::string& identity, const v1::Commit& started);
  // A commit from `identity` was accepted: an extraction stream moves on to
  // the next batch; the commit of a leased batch ends the work on it.
  void Committed(const std::string& identity, const v1::Commit& commit);
  // `identity` (role `role`) died, as the launcher describes it ("killed by
  // signal 11 ..."). Only crashes count (a signal other than SIGKILL,
  // SIGTERM and SIGINT, which are sent by people and tests): returns the
  // halt reason when its role crashed at this batch before. Forgets what
  // `identity` worked on either way.
  std::optional<std::string> Died(const std::string& identity, const std::string& role,
                                  const std::string& how);

  // The signal of a launcher's death description, or 0.
  static int SignalOf(const std::string& how);

 private:
  struct Position {
    std::string batch;    // BatchName of the batch worked on
    std::string where;    // "source crm, from offset 1234"
    bool stream = false;  // an extraction stream: commits move it on
    bool input = false;   // a streaming worker's input batch (Started)
    v1::BatchId next;     // stream: the batch it reads next
  };
  std::map<std::string, std::vector<Position>> at_;  // by worker identity: what it works on
  std::map<std::string, int> crashes_;               // by "role batch"
};

}  // namespace sluice::coordination
