// What a worker leaves behind for the coordinator when a record crashes it
// (issue 23, item 8; docs/limits.md#a-worker-that-crashes-on-the-same-batch-twice):
// a streaming worker says which input batch it starts before it starts it,
// and a crashing process waits a moment before it dies, so that this message
// leaves its socket.
#pragma once

#include <string>

#include "common/core/record.h"
#include "common/runtime/test_fault.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// The stage of the commit a streaming worker sends as it starts on an input
// batch: not a ledger stage, it moves no record (as the loader's `retire`).
inline constexpr char kStartStage[] = "start";

// The `start` commit for the input `batch` of a streaming worker: the
// batch's id, epoch and range in its source, counts.in its records and
// in_keys the first and the last record ("source\x1fkey").
v1::Envelope BatchStartedOf(const RecordBatch& batch);

// Test fault `sigsegv_on_key=K` (test_fault.h) of a streaming worker: raises
// SIGSEGV when `batch` holds a record of key K (a poisonous record), in
// every incarnation of the worker.
void CrashOnPoisonousKey(const TestFaults& faults, const RecordBatch& batch);

// Installs, once per process, handlers of the crash signals (SIGSEGV, SIGBUS,
// SIGFPE, SIGILL, SIGABRT) that wait 300 ms, so that the ZeroMQ I/O threads
// send what the process queued (its `start` commit above all), then let the
// signal end the process as it would have: the launcher still sees it killed
// by that signal. Only for a worker's process (RunWorker), never in tests.
void LetQueuedMessagesOutOnCrash();

}  // namespace sluice
