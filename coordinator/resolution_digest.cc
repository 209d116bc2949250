// The ledger's digest of a dedup resolution (ledger.h): what conservation
// needs of it (its counts, and its fates tallied by source with their key
// checksums), taken from the whole resolve commit or part by part as the
// deduper sends it (resolve_parts.h), so that the coordinator never holds a
// resolution's decisions.
#include "common/core/record.h"
#include "coordinator/ledger.h"

namespace sluice {

void ResolutionDigest::AddFates(const v1::Commit& commit) {
  for (const v1::Fate& f : commit.fates()) {
    checksum.Add(f.source(), f.key());
    FateTally* t = nullptr;
    switch (f.kind()) {
      case v1::FATE_MERGED:
        t = &fates[f.source()];
        ++t->merged;
        break;
      case v1::FATE_REJECTED:
        t = &fates[f.source()];
        ++t->rejected;
        break;
      case v1::FATE_REVIEW:
        t = &fates[f.source()];
        ++t->review;
        break;
      default:
        continue;  // not a fate a resolution accounts a record with
    }
    t->checksum.Add(f.source(), f.key());
  }
}

ResolutionDigest ResolutionDigest::Of(const v1::Commit& resolution) {
  ResolutionDigest d;
  d.counts = resolution.counts();
  d.AddFates(resolution);
  return d;
}

Status Ledger::ApplyResolution(const std::string& name, ResolutionDigest digest) {
  const v1::StageCounts& n = digest.counts;
  KeyChecksum sum;
  sum.AddHash(n.out_checksum());
  sum.Merge(digest.checksum);
  Status st = Status::Ok();
  if (n.in() != n.out() + n.merged() + n.rejected() + n.review() ||
      n.in_checksum() != sum.value()) {
    st = Status::Corruption("dedup resolution of " + name + " does not add up: in " +
                            std::to_string(n.in()) + ", out " + std::to_string(n.out()) +
                            ", merged " + std::to_string(n.merged()) + ", rejected " +
                            std::to_string(n.rejected()));
  }
  resolutions_[name] = std::move(digest);
  return st;
}

}  // namespace sluice
