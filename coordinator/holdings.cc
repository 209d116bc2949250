#include "coordinator/holdings.h"

#include "common/core/key_buckets.h"
#include "common/core/record.h"
#include "common/core/stage.h"

namespace sluice::coordination {
namespace {

std::string LeaseText(const v1::Lease& lease) {
  switch (lease.kind()) {
    case v1::Lease::KIND_EXTRACT_SOURCE:
      return "extracting " + lease.batch().entity() + "/" + lease.batch().source();
    case v1::Lease::KIND_EXTRACT_BATCH:
      return "re-extracting " + BatchName(lease.batch());
    case v1::Lease::KIND_RESOLVE:
      return "resolving " + lease.batch().entity() +
             (lease.dedup_round() ? " (round " + std::to_string(lease.dedup_round()) + ")" : "");
    case v1::Lease::KIND_RESEND:
      return "resending " + BatchName(lease.batch());
    case v1::Lease::KIND_RECONCILE:
      return "reconciling wave " + std::to_string(lease.batch().wave());
    case v1::Lease::KIND_SCAN_KEYS:  // issue 18
      return "comparing the keys of " + lease.batch().entity() + "/" + lease.batch().source();
    default:
      return BatchName(lease.batch());
  }
}

}  // namespace

void Holdings::Leased(const std::string& identity, const v1::Lease& lease) {
  held_[identity] = Held{lease.kind(), lease.epoch(), LeaseText(lease)};
}

bool Holdings::Answers(const Held& held, const v1::Envelope& env) {
  if (env.has_stream_done()) {
    return held.kind == v1::Lease::KIND_EXTRACT_SOURCE && env.stream_done().epoch() == held.epoch;
  }
  if (env.has_reconcile_result()) {
    return held.kind == v1::Lease::KIND_RECONCILE && env.reconcile_result().epoch() == held.epoch;
  }
  if (!env.has_commit() || env.commit().epoch() != held.epoch) return false;
  if (held.kind == v1::Lease::KIND_SCAN_KEYS) return env.commit().stage() == kScanKeysStage;
  const std::optional<Stage> stage = StageNamed(env.commit().stage());
  if (!stage) return false;
  switch (held.kind) {
    case v1::Lease::KIND_EXTRACT_BATCH:
      return *stage == Stage::kExtract;
    case v1::Lease::KIND_RESOLVE:
      // The resolve (its last part), or one of its rounds on N dedup
      // shards; the output batches that follow it are streamed.
      if (env.commit().has_resolve_part() && !env.commit().resolve_part().last()) return false;
      return InfoOf(*stage).phase == BatchPhase::kWhole && *stage != Stage::kReconcile;
    case v1::Lease::KIND_RESEND:
      return *stage == Stage::kDedupOutput;
    default:
      return false;
  }
}

void Holdings::Heard(const std::string& identity, const v1::Envelope& env) {
  auto it = held_.find(identity);
  if (it != held_.end() && Answers(it->second, env)) held_.erase(it);
}

std::string Holdings::Of(const std::string& identity) const {
  auto it = held_.find(identity);
  return it == held_.end() ? "" : it->second.text;
}

}  // namespace sluice::coordination
