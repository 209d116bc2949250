#include "common/core/stage.h"

#include <array>

namespace sluice {
namespace {

using enum Stage;
using enum BatchPhase;

// The table, in pipeline order; indexed by the enum.
constexpr std::array<StageInfo, 14> kStages = {{
    {kExtract, "extract", "extractor", std::nullopt, kIngest, true},
    {kTransform, "transform", "transformer", kExtract, kIngest, false},
    {kDedupIngest, "dedup_ingest", "deduper", kTransform, kIngest, false},
    {kDedupClaims, "dedup_claims", "deduper", std::nullopt, kWhole, true},
    {kDedupWants, "dedup_wants", "deduper", std::nullopt, kWhole, true},
    {kDedupGuests, "dedup_guests", "deduper", std::nullopt, kWhole, true},
    {kDedupBlocks, "dedup_blocks", "deduper", std::nullopt, kWhole, true},
    {kDedupPatterns, "dedup_patterns", "deduper", std::nullopt, kWhole, true},
    {kDedupEdges, "dedup_edges", "deduper", std::nullopt, kWhole, true},
    {kDedupResolve, "dedup_resolve", "deduper", std::nullopt, kWhole, true},
    {kDedupOutput, "dedup", "deduper", std::nullopt, kOutput, true},
    {kValidate, "validate", "validator", kDedupOutput, kOutput, false},
    {kLoad, "load", "loader", kValidate, kOutput, false},
    {kReconcile, "reconcile", "reconciler", std::nullopt, kWhole, true},
}};

// Each role's input stage, in pipeline order.
struct RoleRow {
  std::string_view role;
  Stage input;
};
constexpr std::array<RoleRow, 6> kRoles = {{{"extractor", kExtract},
                                            {"transformer", kTransform},
                                            {"deduper", kDedupIngest},
                                            {"validator", kValidate},
                                            {"loader", kLoad},
                                            {"reconciler", kReconcile}}};

constexpr bool TableInOrder() {
  for (size_t i = 0; i < kStages.size(); ++i) {
    if (static_cast<size_t>(kStages[i].stage) != i) return false;
  }
  return true;
}
static_assert(TableInOrder(), "kStages must list the stages in enum order");

}  // namespace

const StageInfo& InfoOf(Stage stage) { return kStages[static_cast<size_t>(stage)]; }

std::optional<Stage> StageNamed(std::string_view name) {
  for (const StageInfo& s : kStages) {
    if (s.name == name) return s.stage;
  }
  return std::nullopt;
}

std::optional<Stage> DownstreamOf(Stage stage) {
  for (const StageInfo& s : kStages) {
    if (s.upstream == stage) return s.stage;
  }
  return std::nullopt;
}

const std::vector<Stage>& StagesOf(BatchPhase phase) {
  static const auto* kByPhase = [] {
    auto* by = new std::array<std::vector<Stage>, 3>();
    for (const StageInfo& s : kStages) (*by)[static_cast<size_t>(s.phase)].push_back(s.stage);
    return by;
  }();
  return (*kByPhase)[static_cast<size_t>(phase)];
}

std::string StageLabel(Stage stage, uint32_t dedup_shard) {
  std::string label(StageName(stage));
  if (stage == Stage::kDedupIngest && dedup_shard > 0) label += "/" + std::to_string(dedup_shard);
  return label;
}

std::string StageLabel(const v1::Commit& commit) {
  std::optional<Stage> stage = StageNamed(commit.stage());
  return stage ? StageLabel(*stage, commit.dedup_shard()) : commit.stage();
}

const std::vector<std::string_view>& Roles() {
  static const auto* kNames = [] {
    auto* names = new std::vector<std::string_view>();
    for (const RoleRow& r : kRoles) names->push_back(r.role);
    return names;
  }();
  return *kNames;
}

std::optional<Stage> InputStageOf(std::string_view role) {
  for (const RoleRow& r : kRoles) {
    if (r.role == role) return r.input;
  }
  return std::nullopt;
}

std::string_view UpstreamRole(std::string_view role) {
  std::optional<Stage> input = InputStageOf(role);
  if (!input) return "";
  std::optional<Stage> up = InfoOf(*input).upstream;
  return up ? InfoOf(*up).role : "";
}

const char* FateKindName(v1::FateKind kind) {
  switch (kind) {
    case v1::FATE_LOADED:
      return "loaded";
    case v1::FATE_MERGED:
      return "merged";
    case v1::FATE_REJECTED:
      return "rejected";
    case v1::FATE_REVIEW:
      return "review";
    case v1::FATE_WARNING:
      return "warning";
    case v1::FATE_DELETED_AT_SOURCE:
      return "deleted_at_source";
    default:
      return "unknown";
  }
}

}  // namespace sluice
