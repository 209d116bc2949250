#include "coordinator/resolve_parts.h"

#include "common/core/record.h"

namespace sluice::coordination {
namespace {

uint32_t IndexOf(const v1::Commit& part) {
  return part.has_resolve_part() ? part.resolve_part().index() : 0;
}

bool IsLast(const v1::Commit& part) {
  return !part.has_resolve_part() || part.resolve_part().last();
}

Status Refused(const v1::Commit& part, const std::string& why) {
  return Status::Corruption("dedup resolution " + BatchName(part.batch()) + " (epoch " +
                            std::to_string(part.epoch()) + "): " + why);
}

}  // namespace

Status ResolveParts::Take(const v1::Commit& part) {
  if (complete_) return Refused(part, "a part after the last one");
  const uint32_t index = IndexOf(part);
  if (index != next_) {
    return Refused(part, "part " + std::to_string(index) + " arrived where part " +
                             std::to_string(next_) + " was expected (a part was lost)");
  }
  ++next_;
  digest_.AddFates(part);
  decisions_ += part.match_decisions_size();
  review_items_ += part.review_items_size();
  golden_records_ += part.golden_records_size();
  if (!IsLast(part)) return Status::Ok();
  complete_ = true;
  digest_.counts = part.counts();
  if (!part.has_resolve_part()) return Status::Ok();
  const v1::ResolvePart& p = part.resolve_part();
  if (p.parts() != next_ || p.match_decisions() != decisions_ ||
      p.review_items() != review_items_ || p.golden_records() != golden_records_) {
    return Refused(part, "announced " + std::to_string(p.parts()) + " part(s), " +
                             std::to_string(p.match_decisions()) + " decision(s), " +
                             std::to_string(p.review_items()) + " review item(s) and " +
                             std::to_string(p.golden_records()) + " golden record(s), but " +
                             std::to_string(next_) + ", " + std::to_string(decisions_) + ", " +
                             std::to_string(review_items_) + " and " +
                             std::to_string(golden_records_) + " arrived");
  }
  return Status::Ok();
}

}  // namespace sluice::coordination
