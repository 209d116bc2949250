// The limits sluice enforces on what it reads from outside: plans, source
// files, steward files and the wire. Each exists so that a hostile or broken
// input is refused with its location instead of crashing, hanging or taking
// unbounded memory. docs/limits.md lists them with where each is enforced;
// keep the two in step.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::limits {

// --- plans and models (common/plan/plan_limits.cc, before yaml-cpp builds nodes)
// Bytes of a plan or model file.
inline constexpr size_t kMaxPlanBytes = 4 << 20;
// Nesting of YAML collections (mappings and sequences).
inline constexpr int kMaxYamlDepth = 64;
// YAML nodes, counting each alias as a copy of what it names ("billion laughs").
inline constexpr uint64_t kMaxYamlNodes = 200'000;

// --- validation expressions (common/plan/expression_parse.cc)
// Bytes of one expression.
inline constexpr size_t kMaxExpressionBytes = 16 << 10;
// Nesting of parentheses, `not` and function calls.
inline constexpr int kMaxExpressionDepth = 100;

// --- JSON (JSON Lines sources, the review file's JSON cells)
// Nesting of arrays and objects in one JSON value.
inline constexpr int kMaxJsonDepth = 64;

// --- text sources (csv, jsonl; map files and review files read through them)
// Bytes of one line (a CSV row may span several physical lines).
inline constexpr size_t kMaxLineBytes = 16 << 20;
// Bytes of one field (a CSV cell, a JSON value).
inline constexpr size_t kMaxFieldBytes = 1 << 20;
// Columns of a source (a CSV header, the distinct paths of a JSON Lines file)
// and of a batch on the wire.
inline constexpr size_t kMaxColumns = 4096;

// --- the wire (common/runtime/codec.cc, common/runtime/transport.cc)
// Bytes of one control message (coordinator <-> worker).
inline constexpr size_t kMaxControlMessageBytes = 256 << 20;
// Bytes of one data message (a record batch between workers).
inline constexpr size_t kMaxDataMessageBytes = 1 << 30;
// Records in one batch: the plan's largest batch_size.
inline constexpr uint64_t kMaxBatchRecords = 1'000'000;
// Values (records x columns) of one batch: what a batch may allocate (about
// 200 MB). Sources read fewer rows than the plan's batch_size when their rows
// are wide (BatchRows): one JSON Lines line with 4,000 keys makes every
// record of the file 4,000 values wide.
inline constexpr uint64_t kMaxBatchValues = 4 << 20;

// The rows of a batch of `columns` columns: `wanted` (the plan's batch_size),
// or fewer when kMaxBatchValues would be exceeded; at least 1 unless `wanted`
// is 0. Deterministic: the same source reads the same batches again.
constexpr size_t BatchRows(size_t wanted, size_t columns) {
  const uint64_t cap = kMaxBatchValues / (columns == 0 ? 1 : columns);
  if (wanted == 0) return 0;
  return cap == 0 ? 1 : static_cast<size_t>(wanted < cap ? wanted : cap);
}

}  // namespace sluice::limits
