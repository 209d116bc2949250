// The key scan of a source (issue 18, docs/delta.md): which of the keys the
// target holds for a source the source no longer has, found cheaply. The
// coordinator leases the source's expected bucket checksums (KIND_SCAN_KEYS,
// common/core/key_buckets.h); the scan reads every key of the source and
// answers with the buckets that differ and the source's keys in them only.
#pragma once

#include <string>

#include "common/connectors/connector.h"
#include "common/core/key_buckets.h"

namespace sluice {

// Reads every row of `source` (positioned at its start) and returns the
// scan_keys commit answering `lease`: counts.in the keys read,
// differing_buckets, and out_keys ("source\x1fkey") of the keys in those
// buckets. A row rejected without a key ("line:N") has no key to compare.
Result<v1::Commit> ScanKeys(Source& source, const std::string& source_name, const v1::Lease& lease,
                            size_t batch_rows);

}  // namespace sluice
