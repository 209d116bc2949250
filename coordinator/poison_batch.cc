#include "coordinator/poison_batch.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "common/core/record.h"

namespace sluice::coordination {
namespace {

std::string Where(const v1::BatchId& id, const v1::BatchRange& range) {
  return "source " + id.source() + ", entity " + id.entity() + ", from offset " +
         std::to_string(range.begin_offset()) +
         (range.first_line() ? " (line " + std::to_string(range.first_line()) + ")" : "");
}

}  // namespace

void PoisonBatchWatch::Leased(const std::string& identity, const v1::Lease& lease) {
  Position p;
  p.batch = BatchName(lease.batch());
  p.where = Where(lease.batch(), lease.range());
  p.stream = lease.kind() == v1::Lease::KIND_EXTRACT_SOURCE;
  p.next = lease.batch();
  if (p.stream) {
    // A stream lease names its first batch by next_sequence (lease_book.h).
    p.next.set_sequence(lease.next_sequence());
    p.batch = BatchName(p.next);
  }
  std::vector<Position>& held = at_[identity];
  // A lease again of the same batch, or of the same stream, replaces it.
  std::erase_if(held, [&p](const Position& q) {
    return p.stream && q.stream
               ? q.next.entity() == p.next.entity() && q.next.source() == p.next.source() &&
                     q.next.wave() == p.next.wave()
               : q.batch == p.batch;
  });
  held.push_back(std::move(p));
}

void PoisonBatchWatch::Started(const std::string& identity, const v1::Commit& started) {
  Position p;
  p.batch = BatchName(started.batch());
  p.input = true;
  // An extracted batch has its place in its source; after the deduper, its
  // records come from anywhere: their keys say which.
  p.where = started.range().end_offset() > started.range().begin_offset()
                ? Where(started.batch(), started.range()) + "; "
                : "entity " + started.batch().entity() + "; ";
  const uint64_t records = started.counts().in();
  p.where += std::to_string(records) + " record" + (records == 1 ? "" : "s");
  if (started.in_keys_size() == 2) {
    auto key = [](std::string k) {
      std::replace(k.begin(), k.end(), '\x1f', '/');
      return k;
    };
    const std::string first = key(started.in_keys(0)), last = key(started.in_keys(1));
    p.where += first == last ? ": " + first : ", " + first + " to " + last;
  }
  std::vector<Position>& held = at_[identity];
  std::erase_if(held, [](const Position& q) { return q.input; });
  held.push_back(std::move(p));
}

void PoisonBatchWatch::Committed(const std::string& identity, const v1::Commit& commit) {
  auto it = at_.find(identity);
  if (it == at_.end()) return;
  const std::string name = BatchName(commit.batch());
  for (Position& p : it->second) {
    if (!p.stream || name != BatchName(p.next)) continue;
    // The next batch starts where this one ended (the source's offsets).
    p.next.set_sequence(p.next.sequence() + 1);
    p.batch = BatchName(p.next);
    v1::BatchRange next;
    next.set_begin_offset(commit.range().end_offset());
    p.where = Where(p.next, next);
  }
  std::erase_if(it->second, [&name](const Position& p) { return !p.stream && p.batch == name; });
}

int PoisonBatchWatch::SignalOf(const std::string& how) {
  static constexpr char kKilled[] = "killed by signal ";
  if (how.rfind(kKilled, 0) != 0) return 0;
  return std::atoi(how.c_str() + std::strlen(kKilled));
}

std::optional<std::string> PoisonBatchWatch::Died(const std::string& identity,
                                                  const std::string& role, const std::string& how) {
  auto it = at_.find(identity);
  if (it == at_.end()) return std::nullopt;
  const std::vector<Position> held = std::move(it->second);
  at_.erase(it);
  const int sig = SignalOf(how);
  if (sig == 0 || sig == SIGKILL || sig == SIGTERM || sig == SIGINT) return std::nullopt;
  // Every batch it was on counts; the one it crashed on most (a stream's
  // current batch before a single batch, on a tie) is named.
  const Position* worst = nullptr;
  int most = 0;
  for (const Position& p : held) {
    const int n = ++crashes_[role + " " + p.batch];
    if (n > most || (n == most && p.stream)) {
      worst = &p;
      most = n;
    }
  }
  if (worst == nullptr || most < 2) return std::nullopt;
  const char* abbrev = sigabbrev_np(sig);
  return "worker " + identity + " crashed twice on batch " + worst->batch + " (" + worst->where +
         "): killed by signal " + std::to_string(sig) +
         (abbrev ? " (SIG" + std::string(abbrev) + ")" : "") +
         "; a record of that batch crashes the " + role +
         ", so it is not retried: see the worker's log, fix or remove the record, then "
         "`sluice resume`";
}

}  // namespace sluice::coordination
