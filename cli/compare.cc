// `sluice compare PLAN [--entity E] [--source S] [--csv FILE] [--html FILE]
// [--json]`: the live legacy sources, read through the plan's mappings,
// against the live target, during parallel operation (issue 18,
// docs/compare.md). Loads nothing; every difference is stored in the audit
// store under the comparison's id. Exit 0 when equal, 1 when different.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/compare_read.h"
#include "cli/csv_writer.h"
#include "cli/report_page.h"
#include "common/core/html_text.h"
#include "validator/validate.h"

namespace sluice::cli {
namespace {

using Json = nlohmann::ordered_json;

struct CompareArgs {
  std::string plan_path;
  std::string env;        // the plan environment whose target is compared
  std::string entity;     // only this entity; empty: all
  std::string source;     // only this source; empty: all
  std::string csv_path;   // every difference to this CSV file
  std::string html_path;  // a self-contained page to this file
  bool json = false;      // the summary and every difference as JSON on stdout
  std::string state_dir;  // default: the plan's
};

// Differences are stored in chunks, as the reconciler sends them.
constexpr int kChunk = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "compare-20261207T050500.123Z": sorts by time, like run ids.
std::string CompareId(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "compare-%Y%m%dT%H%M%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// Why a source record with no target entry legitimately has none: its
// latest run rejected or held it (and neither loaded nor merged it).
Result<std::string> AbsenceFromFates(AuditStore& audit, const std::string& entity,
                                     const std::string& source, const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<FateRow> fates, audit.FatesOf(entity, source, key));
  std::string last_run, why;
  bool placed = false;
  for (const FateRow& f : fates) {  // oldest run first
    const v1::FateKind kind = f.fate.kind();
    if (kind == v1::FATE_WARNING || kind == v1::FATE_UNSPECIFIED) continue;
    if (f.run_id != last_run) {
      last_run = f.run_id;
      placed = false;
      why.clear();
    }
    if (kind == v1::FATE_LOADED || kind == v1::FATE_MERGED) placed = true;
    if (why.empty() && (kind == v1::FATE_REJECTED || kind == v1::FATE_REVIEW)) {
      why = (kind == v1::FATE_REJECTED ? "rejected by " : "held by ") + f.fate.rule() + " in " +
            f.run_id;
    }
  }
  return placed ? std::string() : why;
}

// Per entity, source and kind; "" source: rows without an entry.
using Counts = std::map<std::string, std::map<std::string, std::map<std::string, uint64_t>>>;

Json SummaryJson(const std::string& id, const std::string& verdict, const Counts& counts,
                 const std::map<std::string, Json>& entities) {
  Json list = Json::array();
  for (const auto& [entity, e] : entities) {
    Json by_source = Json::object();
    Json by_failure = Json::object();
    if (auto it = counts.find(entity); it != counts.end()) {
      for (const auto& [source, kinds] : it->second) {
        by_source[source.empty() ? "(no entry)" : source] = kinds;
        for (const auto& [kind, n] : kinds) {
          by_failure[kind] = by_failure.value(kind, uint64_t{0}) + n;
        }
      }
    }
    Json row = e;
    row["differences_by_failure"] = by_failure;
    row["differences_by_source"] = by_source;
    list.push_back(row);
  }
  return Json{{"compare_id", id}, {"verdict", verdict}, {"entities", list}};
}

// Compares one entity, storing its differences in `audit` under `id` and
// counting them in `counts`; returns its summary row.
Result<Json> CompareEntity(const Plan& plan, const Entity& entity,
                           const std::set<std::string>& sources,
                           const v1::ReviewDecisions& decisions, const std::string& state_dir,
                           const std::string& id, AuditStore& audit, Target* target,
                           Counts* counts) {
  const std::string& name = entity.name;
  auto dedup = plan.dedup.find(name);
  LiveComparison::Options options;
  options.spill_path = (std::filesystem::path(state_dir) / (id + "." + name + ".db")).string();
  options.dedup = dedup == plan.dedup.end() ? nullptr : &dedup->second;
  // A value that would make the golden record fail validation is not
  // taken, as the deduper decides (dedup_cluster.cc).
  ValidatorOptions judging;
  judging.today = RunDay("");
  judging.decisions = &decisions;
  SLUICE_ASSIGN_OR_RETURN(auto judge, EntityValidator::Create(plan, name, judging));
  const Schema schema = entity.ToSchema();
  options.accept = [&](const Record& golden) { return !judge->Judge(golden, schema).has_value(); };
  SLUICE_ASSIGN_OR_RETURN(auto comparison, LiveComparison::Create(entity, options));
  // With --source S, a deduplicated entity's other sources are read too: a
  // cluster's golden record is rebuilt from all its members. Only S's
  // differences are listed.
  const std::set<std::string> read = options.dedup != nullptr ? std::set<std::string>{} : sources;
  SLUICE_ASSIGN_OR_RETURN(ComparedSide side,
                          ReadBothSides(plan, entity, read, decisions, target, comparison.get()));
  v1::ReconcileDifferences chunk;
  Status stored;
  auto flush = [&] {
    if (stored.ok() && chunk.differences_size() > 0) stored = audit.RecordDifferences(id, chunk);
    chunk.clear_differences();
  };
  uint64_t listed = 0;
  DifferenceLog log([&](const FieldDifference& d) {
    if (!sources.empty() && !sources.count(d.source)) return;
    ++listed;
    ++(*counts)[name][d.source][d.failure];
    v1::ReconcileDifference* out = chunk.add_differences();
    out->set_entity(name);
    out->set_source(d.source);
    out->set_key(d.key);
    out->set_failure(d.failure);
    out->set_field(d.field);
    out->set_expected(d.expected);
    out->set_actual(d.actual);
    if (chunk.differences_size() == kChunk) flush();
  });
  Status st = comparison->Compare(
      [&](const std::string& source, const std::string& key) {
        return AbsenceFromFates(audit, name, source, key);
      },
      &log);
  flush();
  SLUICE_RETURN_IF_ERROR(st);
  SLUICE_RETURN_IF_ERROR(stored);
  return Json{{"entity", name},
              {"source_records", side.source_records},
              {"source_not_loadable", side.source_rejects},
              {"target_entries", side.target_entries},
              {"rows_without_entry", side.stray_rows},
              {"compared", comparison->compared()},
              {"equal", comparison->equal()},
              {"not_loaded", comparison->not_loaded()},
              {"differences", listed},
              {"note", side.note}};
}

void PrintCounts(CommandContext& ctx, const Json& summary) {
  ctx.Printf("%-14s %-14s %-16s %10s\n", "entity", "source", "kind", "count");
  for (const Json& e : summary["entities"]) {
    const std::string entity = e["entity"];
    if (e["differences_by_source"].empty()) {
      ctx.Printf("%-14s %-14s %-16s %10d\n", entity.c_str(), "*", "equal", 0);
    }
    for (const auto& [source, kinds] : e["differences_by_source"].items()) {
      for (const auto& [kind, n] : kinds.items()) {
        ctx.Printf("%-14s %-14s %-16s %10llu\n", entity.c_str(), source.c_str(), kind.c_str(),
                   static_cast<unsigned long long>(n.get<uint64_t>()));
      }
    }
  }
}

std::string ComparisonHtml(const Json& summary, AuditStore& audit, const std::string& id,
                           Status* st) {
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>sluice " +
      HtmlText(id) + "</title>" + kReportStyle + "</head><body><h1>" + HtmlText(id) + " " +
      ReportBadge(summary["verdict"]) + "</h1>";
  for (const Json& e : summary["entities"]) {
    html += "<h2>" + HtmlText(e["entity"].get<std::string>()) + "</h2><p>" +
            std::to_string(e["compared"].get<uint64_t>()) + " source records compared, " +
            std::to_string(e["equal"].get<uint64_t>()) + " equal, " +
            std::to_string(e["not_loaded"].get<uint64_t>()) + " legitimately without a row</p>" +
            DifferenceChart(e["differences_by_failure"]);
  }
  html +=
      "<h2>Differences</h2><table><tr><th>entity</th><th>source/key</th><th>kind</th>"
      "<th>field</th><th>source value</th><th>target value</th></tr>";
  *st = audit.ForEachDifference(id, "", [&](const DifferenceRow& d) {
    html += "<tr><td>" + HtmlText(d.entity) + "</td><td>" + HtmlText(d.source + "/" + d.key) +
            "</td><td>" + HtmlText(d.failure) + "</td><td>" + HtmlText(d.field) + "</td><td>" +
            HtmlText(d.expected) + "</td><td>" + HtmlText(d.actual) + "</td></tr>";
  });
  return html + "</table></body></html>\n";
}

int Compare(const CompareArgs& args, CommandContext& ctx) {
  if (Status st = ctx.LoadPlan(args.plan_path, args.env); !st.ok()) return ctx.InvalidPlan(st);
  const Plan& plan = ctx.plan();
  const std::string state_dir = args.state_dir.empty() ? plan.state_dir : args.state_dir;
  if (!args.entity.empty() && plan.model.Find(args.entity) == nullptr) {
    return ctx.Fail("entity " + args.entity + " is not in the model", kExitUsage);
  }
  if (!args.source.empty() && plan.FindSource(args.source) == nullptr) {
    return ctx.Fail("source " + args.source + " is not in the plan", kExitUsage);
  }
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  auto audit = AuditStore::Open((std::filesystem::path(state_dir) / "audit.db").string());
  if (!audit.ok()) return ctx.Fail(audit.status().message(), kExitError);
  auto decisions = (*audit)->ReviewDecisionsOf(plan.name);
  if (!decisions.ok()) return ctx.Fail(decisions.status().message(), kExitError);
  auto target = OpenTarget(plan.target);
  if (!target.ok()) return ctx.Fail(target.status().message(), kExitError);

  const int64_t started = NowMs();
  const std::string id = CompareId(started);
  std::set<std::string> sources;
  if (!args.source.empty()) sources.insert(args.source);
  Counts counts;
  std::map<std::string, Json> entities;
  uint64_t total = 0;
  for (const WaveSpec& wave : plan.waves) {
    for (const std::string& name : wave.entities) {
      if (!args.entity.empty() && name != args.entity) continue;
      const Entity* entity = plan.model.Find(name);
      if (entity == nullptr) continue;
      if (!sources.empty() && plan.FindMapping(name, args.source) == nullptr) continue;
      auto row = CompareEntity(plan, *entity, sources, *decisions, state_dir, id, **audit,
                               target->get(), &counts);
      if (!row.ok()) return ctx.Fail(row.status().message(), kExitError);
      total += (*row)["differences"].get<uint64_t>();
      entities[name] = std::move(row).value();
    }
  }
  const std::string verdict = total == 0 ? "equal" : "different";
  const Json summary = SummaryJson(id, verdict, counts, entities);
  Status st =
      (*audit)->RecordComparison({id, plan.name, started, NowMs(), verdict, summary.dump()});
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);

  if (!args.csv_path.empty()) {
    std::ofstream out(args.csv_path, std::ios::binary | std::ios::trunc);
    if (!out) return ctx.Fail("cannot write " + args.csv_path, kExitError);
    WriteCsvRow(out, {"entity", "source", "key", "kind", "field", "source_value", "target_value"});
    st = (*audit)->ForEachDifference(id, "", [&](const DifferenceRow& d) {
      WriteCsvRow(out, {d.entity, d.source, d.key, d.failure, d.field, d.expected, d.actual});
    });
    out.close();
    if (st.ok() && !out) st = Status::IoError("cannot write " + args.csv_path);
    if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  }
  if (!args.html_path.empty()) {
    std::string page = ComparisonHtml(summary, **audit, id, &st);
    std::ofstream out(args.html_path, std::ios::binary | std::ios::trunc);
    out << page;
    out.close();
    if (st.ok() && !out) st = Status::IoError("cannot write " + args.html_path);
    if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  }
  if (args.json) {
    Json doc = summary;
    Json list = Json::array();
    st = (*audit)->ForEachDifference(id, "", [&](const DifferenceRow& d) {
      list.push_back({{"entity", d.entity},
                      {"source", d.source},
                      {"key", d.key},
                      {"kind", d.failure},
                      {"field", d.field},
                      {"source_value", d.expected},
                      {"target_value", d.actual}});
    });
    if (!st.ok()) return ctx.Fail(st.message(), kExitError);
    doc["differences"] = std::move(list);
    ctx.out() << doc.dump() << "\n";  // one line, like `sluice run --json`
    return total == 0 ? kExitOk : kExitError;
  }
  // Every difference, uncapped, then the counts.
  st = (*audit)->ForEachDifference(id, "", [&](const DifferenceRow& d) {
    ctx.out() << d.entity << "\t" << d.source << "/" << d.key << "\t" << d.failure << "\t"
              << d.field << "\t" << d.expected << "\t" << d.actual << "\n";
  });
  if (!st.ok()) return ctx.Fail(st.message(), kExitError);
  PrintCounts(ctx, summary);
  for (const auto& [name, e] : entities) {
    if (!e["note"].get<std::string>().empty()) {
      ctx.out() << "note: " << name << ": " << e["note"].get<std::string>() << "\n";
    }
  }
  ctx.out() << id << ": " << verdict << ", " << total << " difference(s)"
            << (total > 0 ? " (stored; again with `sluice diff " + id + "`)" : "") << "\n";
  return total == 0 ? kExitOk : kExitError;
}

}  // namespace

void AddCompareCommand(CommandSet& commands) {
  auto [compare, args] = commands.Add(
      nullptr, "compare",
      "compare the live sources, mapped by the plan, with the target; load nothing (exit 1: "
      "different)",
      Compare);
  compare->add_option("plan", args->plan_path, "the plan")->required();
  compare->add_option("--env", args->env, "the plan environment whose target to compare");
  compare->add_option("--entity", args->entity, "only this entity");
  compare->add_option("--source", args->source, "only this source");
  compare->add_option("--csv", args->csv_path, "write every difference to this CSV file");
  compare->add_option("--html", args->html_path, "write a self-contained HTML page to this file");
  compare->add_flag("--json", args->json, "print the counts and every difference as JSON");
  compare->add_option("--state-dir", args->state_dir, "the state dir (default: the plan's)");
}

}  // namespace sluice::cli
