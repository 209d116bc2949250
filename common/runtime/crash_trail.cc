#include "common/runtime/crash_trail.h"

#include <signal.h>
#include <time.h>

namespace sluice {
namespace {

void WaitThenDie(int sig) {
  // The handler was reset to the default on entry (SA_RESETHAND): once it
  // returns, the signal raised here ends the process. nanosleep and raise
  // are async-signal-safe; the I/O threads run on meanwhile.
  struct timespec grace = {0, 300'000'000};
  nanosleep(&grace, nullptr);
  raise(sig);
}

}  // namespace

v1::Envelope BatchStartedOf(const RecordBatch& batch) {
  v1::Envelope env;
  v1::Commit* c = env.mutable_commit();
  c->set_stage(kStartStage);
  *c->mutable_batch() = batch.id;
  c->set_epoch(batch.epoch);
  *c->mutable_range() = batch.range;
  c->mutable_counts()->set_in(batch.records.size());
  if (!batch.records.empty()) {
    const Record& first = batch.records.front();
    const Record& last = batch.records.back();
    c->add_in_keys(first.source + '\x1f' + first.key);
    c->add_in_keys(last.source + '\x1f' + last.key);
  }
  return env;
}

void CrashOnPoisonousKey(const TestFaults& faults, const RecordBatch& batch) {
  if (!faults.sigsegv_on_key) return;
  for (const Record& r : batch.records) {
    if (r.key == *faults.sigsegv_on_key) raise(SIGSEGV);
  }
}

void LetQueuedMessagesOutOnCrash() {
  struct sigaction action = {};
  action.sa_handler = WaitThenDie;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &action, nullptr);
}

}  // namespace sluice
