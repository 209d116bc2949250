#include "reconciler/reconcile_worker.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace sluice {

Result<ReconcileInput> ReadReconcileInput(AuditStore& audit, const std::string& run_id, int wave,
                                          const std::string& entity) {
  ReconcileInput in;
  in.run_id = run_id;
  in.wave = wave;
  in.entity = entity;
  SLUICE_ASSIGN_OR_RETURN(auto ledger, audit.Ledger(run_id, wave));
  uint64_t loaded = 0;
  for (const auto& row : ledger) {
    if (row.entity != entity) continue;
    in.extracted[row.source] = row.extracted;
    in.extracted_checksum[row.source] = row.extracted_checksum;
    loaded += row.loaded;
  }
  // One entry per loaded record: sized once rather than regrown (and
  // copied) about twenty times at a million records.
  in.loaded.reserve(loaded);
  // The fates are counted here again, independently of the coordinator,
  // per source in a small table: fates come in long runs of one source.
  struct SourceFates {
    std::string source;
    uint64_t counts[4] = {0, 0, 0, 0};  // kTerminalKinds
    KeyChecksum checksum;
  };
  static constexpr const char* kTerminalKinds[4] = {"loaded", "merged", "rejected", "review"};
  std::vector<SourceFates> sources;
  SourceFates* last = nullptr;
  SLUICE_RETURN_IF_ERROR(audit.ForEachFateSummary(run_id, wave, entity, [&](const FateSummary& f) {
    int kind = 0;
    while (kind < 4 && f.kind != kTerminalKinds[kind]) ++kind;
    if (kind == 4) return;  // warnings are not fates of their own
    if (last == nullptr || last->source != f.source) {
      auto it = std::find_if(sources.begin(), sources.end(),
                             [&](const SourceFates& s) { return s.source == f.source; });
      if (it == sources.end()) {
        it = sources.insert(sources.end(), SourceFates{});
        it->source.assign(f.source);
      }
      last = &*it;
    }
    ++last->counts[kind];
    last->checksum.Add(f.source, f.key);
    if (kind == 0) {
      in.loaded.push_back({std::string(f.source), std::string(f.key), f.content_hash, f.target_id});
    } else if (kind == 1) {
      in.merged.push_back({std::string(f.source), std::string(f.key),
                           std::string(f.survivor_source), std::string(f.survivor_key)});
    } else {
      RecordFate& u = in.unloaded[FateKey(f.source, f.key)];
      u.kind = kTerminalKinds[kind];
      u.rule = f.rule;
    }
  }));
  for (const SourceFates& s : sources) {
    for (int kind = 0; kind < 4; ++kind) {
      if (s.counts[kind] > 0) in.fate_counts[s.source][kTerminalKinds[kind]] = s.counts[kind];
    }
    in.fate_checksum[s.source] = s.checksum.value();
  }
  SLUICE_ASSIGN_OR_RETURN(in.decimal_sums, audit.DecimalSums(run_id, wave, entity));
  return in;
}

Status ReconcileLogic::Start(const WorkerContext& ctx) {
  ctx_ = ctx;
  return Status::Ok();
}

Status ReconcileLogic::OnLease(const v1::Lease& lease, StageEmitter& out) {
  if (lease.kind() != v1::Lease::KIND_RECONCILE) {
    return Status::InvalidArgument("reconciler cannot take this lease");
  }
  const int wave = static_cast<int>(lease.batch().wave());
  if (wave < 0 || wave >= static_cast<int>(ctx_.plan.waves.size())) {
    return Status::InvalidArgument("no wave " + std::to_string(wave));
  }
  auto audit_path = std::filesystem::path(ctx_.state_dir) / "audit.db";
  SLUICE_ASSIGN_OR_RETURN(auto audit, AuditStore::Open(audit_path.string(), /*readonly=*/true));
  SLUICE_ASSIGN_OR_RETURN(auto target, OpenTarget(ctx_.plan.target));
  std::vector<EntityReconciliation> results;
  google::protobuf::RepeatedPtrField<v1::ReferenceCheck> res_checks;
  google::protobuf::RepeatedPtrField<v1::SurvivorCheck> survivor_checks;
  bool passed = true;
  std::string summary;
  for (const auto& name : ctx_.plan.waves[wave].entities) {
    const Entity* entity = ctx_.plan.model.Find(name);
    if (entity == nullptr) return Status::NotFound("entity " + name);
    SLUICE_RETURN_IF_ERROR(target->Prepare(*entity));
    SLUICE_ASSIGN_OR_RETURN(ReconcileInput input,
                            ReadReconcileInput(*audit, lease.batch().run_id(), wave, name));
    SLUICE_ASSIGN_OR_RETURN(EntityReconciliation r, ReconcileEntity(*entity, input, target.get()));
    SLUICE_ASSIGN_OR_RETURN(r.ri, CheckReferences(ctx_.plan.model, *entity, target.get()));
    SLUICE_ASSIGN_OR_RETURN(r.survivors, CheckSurvivors(*entity, input, target.get()));
    r.passed = r.passed && r.ri.passed() && r.survivors.passed();
    passed = passed && r.passed;
    summary += (summary.empty() ? "" : "; ") + name + ": " + (r.passed ? "PASS" : "FAIL") + " (" +
               std::to_string(r.matched_rows) + "/" + std::to_string(r.expected_rows) +
               " rows matched, " + std::to_string(r.difference_count) + " differences";
    if (r.ri.checked) {
      summary += ", ri_check " + r.ri.Verdict() + ": " + std::to_string(r.ri.unresolved) +
                 " unresolved of " + std::to_string(r.ri.references) + " references";
    }
    if (r.survivors.checked) {
      summary += ", survivor_check " + r.survivors.Verdict() + ": " +
                 std::to_string(r.survivors.unresolved) + " of " +
                 std::to_string(r.survivors.merged) + " merged reach no loaded row";
      for (const auto& [source, c] : r.survivors.by_source) {
        summary += " (" + source + " " + std::to_string(c.unresolved) + "/" +
                   std::to_string(c.merged) + ")";
      }
      if (!r.survivors.examples.empty()) summary += ", e.g. " + r.survivors.examples.front();
    }
    summary += ")";
    for (const auto& [source, c] : r.survivors.by_source) {
      v1::SurvivorCheck* sc = survivor_checks.Add();
      sc->set_entity(name);
      sc->set_source(source);
      sc->set_merged(c.merged);
      sc->set_unresolved(c.unresolved);
      sc->set_verdict(c.unresolved == 0 ? "PASS" : "FAIL");
    }
    auto* check = res_checks.Add();
    check->set_entity(name);
    check->set_verdict(r.ri.Verdict());
    check->set_unresolved(r.ri.unresolved);
    results.push_back(std::move(r));
  }
  auto dir = std::filesystem::path(ctx_.state_dir) / "reports" / lease.batch().run_id();
  std::filesystem::create_directories(dir);
  auto path = dir / ("wave-" + std::to_string(wave) + ".json");
  auto report = nlohmann::json::parse(ReconciliationJson(lease.batch().run_id(), wave, results));
  // Issue 6: the wave's failures grouped by rule, with examples.
  report["errors_by_rule"] = nlohmann::json::array();
  if (auto by_rule = audit->FailuresByRule(lease.batch().run_id(), wave, 3); by_rule.ok()) {
    for (const auto& r : *by_rule) {
      nlohmann::json examples = nlohmann::json::array();
      for (const auto& f : r.examples) {
        examples.push_back({{"source", f.source()},
                            {"key", f.key()},
                            {"field", f.field()},
                            {"value", f.value()},
                            {"reason", f.reason()},
                            {"suggestion", f.suggestion()}});
      }
      report["errors_by_rule"].push_back({{"entity", r.count.entity},
                                          {"rule", r.count.rule},
                                          {"kind", r.count.kind},
                                          {"count", r.count.count},
                                          {"examples", examples}});
    }
  }
  std::ofstream(path) << report.dump(2) << "\n";
  v1::Envelope env;
  auto* res = env.mutable_reconcile_result();
  res->set_wave(static_cast<uint32_t>(wave));
  res->set_epoch(lease.epoch());
  res->set_passed(passed);
  res->set_report_path(path.string());
  res->set_summary(summary);
  *res->mutable_reference_checks() = std::move(res_checks);
  *res->mutable_survivor_checks() = std::move(survivor_checks);
  out.Send(std::move(env));
  return Status::Ok();
}

}  // namespace sluice
