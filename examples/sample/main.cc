// sluice-sample: writes the synthetic legacy exports of the quickstart and the
// benchmarks. See examples/quickstart/README.md and bench/README.md.
//
//   sluice-sample quickstart --out DIR [--crm-rows 40000] [--erp-rows 15000] [--seed 1]
//   sluice-sample bench --rows 1000000 --out FILE.csv [--seed 1]
//   sluice-sample consolidation --entities N --out DIR [--seed 1] [--hard true]
//
// Exit codes: 0 written, 1 write failed, 2 bad usage.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include "examples/sample/consolidation.h"
#include "examples/sample/generator.h"

namespace {

constexpr const char* kUsage =
    "usage: sluice-sample quickstart --out DIR [--crm-rows 40000] [--erp-rows 15000] [--seed 1]\n"
    "       sluice-sample bench --rows 1000000 --out FILE.csv [--seed 1]\n"
    "       sluice-sample consolidation --entities N --out DIR [--seed 1] [--hard true]\n";

int Usage(const std::string& problem) {
  if (!problem.empty()) std::fprintf(stderr, "sluice-sample: %s\n", problem.c_str());
  std::fputs(kUsage, stderr);
  return 2;
}

// Parses "--name value" pairs; only names listed in `flags` are accepted.
bool ParseFlags(int argc, char** argv, std::map<std::string, std::string>* flags,
                std::string* problem) {
  for (int i = 2; i < argc; i += 2) {
    const std::string name = argv[i];
    if (flags->count(name) == 0) {
      *problem = "unknown flag '" + name + "'";
      return false;
    }
    if (i + 1 >= argc) {
      *problem = name + " needs a value";
      return false;
    }
    (*flags)[name] = argv[i + 1];
  }
  return true;
}

template <typename T>
bool ParseNumber(const std::string& text, T* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

int Quickstart(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"--out", ""}, {"--crm-rows", "40000"}, {"--erp-rows", "15000"}, {"--seed", "1"}};
  std::string problem;
  if (!ParseFlags(argc, argv, &flags, &problem)) return Usage(problem);
  sluice::sample::QuickstartOptions options;
  options.out_dir = flags["--out"];
  if (options.out_dir.empty()) return Usage("--out is required");
  if (!ParseNumber(flags["--crm-rows"], &options.crm_rows) ||
      !ParseNumber(flags["--erp-rows"], &options.erp_rows) ||
      !ParseNumber(flags["--seed"], &options.seed)) {
    return Usage("--crm-rows, --erp-rows and --seed take whole numbers");
  }
  sluice::sample::QuickstartCounts c;
  if (sluice::Status s = sluice::sample::WriteQuickstart(options, &c); !s.ok()) {
    std::fprintf(stderr, "sluice-sample: %s\n", s.message().c_str());
    return s.code() == sluice::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf(
      "%s/hcp_crm.csv: %lld rows (%lld repeat a CRM national_id, %lld shared with erp; dirt: "
      "%lld unmapped specialty, %lld impossible date, %lld wrong column count, %lld empty "
      "hcp_id)\n",
      options.out_dir.c_str(), static_cast<long long>(c.crm_rows),
      static_cast<long long>(c.crm_duplicates), static_cast<long long>(c.crm_shared),
      static_cast<long long>(c.crm_unmapped_specialty),
      static_cast<long long>(c.crm_impossible_date),
      static_cast<long long>(c.crm_wrong_column_count), static_cast<long long>(c.crm_empty_key));
  std::printf(
      "%s/erp.db: %lld rows in doctors (%lld repeat an ERP nat_id, %lld shared with crm; dirt: "
      "%lld spec_code 99, %lld NULL nat_id, %lld email without '@', %lld negative turnover)\n",
      options.out_dir.c_str(), static_cast<long long>(c.erp_rows),
      static_cast<long long>(c.erp_duplicates), static_cast<long long>(c.erp_shared),
      static_cast<long long>(c.erp_unknown_spec_code),
      static_cast<long long>(c.erp_null_national_id),
      static_cast<long long>(c.erp_email_without_at),
      static_cast<long long>(c.erp_negative_revenue));
  return 0;
}

int Bench(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"--out", ""}, {"--rows", "1000000"}, {"--seed", "1"}};
  std::string problem;
  if (!ParseFlags(argc, argv, &flags, &problem)) return Usage(problem);
  sluice::sample::BenchOptions options;
  options.out_path = flags["--out"];
  if (options.out_path.empty()) return Usage("--out is required");
  if (!ParseNumber(flags["--rows"], &options.rows) ||
      !ParseNumber(flags["--seed"], &options.seed)) {
    return Usage("--rows and --seed take whole numbers");
  }
  int64_t bytes = 0;
  if (sluice::Status s = sluice::sample::WriteBenchCsv(options, &bytes); !s.ok()) {
    std::fprintf(stderr, "sluice-sample: %s\n", s.message().c_str());
    return s.code() == sluice::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf("%s: %lld rows, %lld bytes\n", options.out_path.c_str(),
              static_cast<long long>(options.rows), static_cast<long long>(bytes));
  return 0;
}

// Three systems of one population with drift and duplicates, and the truth.
int Consolidation(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"--out", ""}, {"--entities", ""}, {"--seed", "1"}, {"--hard", "false"}};
  std::string problem;
  if (!ParseFlags(argc, argv, &flags, &problem)) return Usage(problem);
  sluice::sample::ConsolidationOptions options;
  options.out_dir = flags["--out"];
  if (options.out_dir.empty() || flags["--entities"].empty()) {
    return Usage("--out and --entities are required");
  }
  if (!ParseNumber(flags["--entities"], &options.entities) ||
      !ParseNumber(flags["--seed"], &options.seed)) {
    return Usage("--entities and --seed take whole numbers");
  }
  if (flags["--hard"] != "true" && flags["--hard"] != "false") {
    return Usage("--hard takes true or false");
  }
  options.hard = flags["--hard"] == "true";
  sluice::sample::ConsolidationCounts c;
  if (sluice::Status s = sluice::sample::WriteConsolidation(options, &c); !s.ok()) {
    std::fprintf(stderr, "sluice-sample: %s\n", s.message().c_str());
    return s.code() == sluice::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf(
      "%s: %lld people as crm.csv %lld rows, erp.jsonl %lld rows, sfa.db %lld rows (%lld "
      "in-system duplicates, %lld people in two or three systems, %lld true pairs); truth.csv; "
      "%lld bytes\n",
      options.out_dir.c_str(), static_cast<long long>(c.entities),
      static_cast<long long>(c.crm_rows), static_cast<long long>(c.erp_rows),
      static_cast<long long>(c.sfa_rows), static_cast<long long>(c.in_system_duplicates),
      static_cast<long long>(c.cross_system_people), static_cast<long long>(c.true_pairs),
      static_cast<long long>(c.bytes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "quickstart") return Quickstart(argc, argv);
  if (command == "bench") return Bench(argc, argv);
  if (command == "consolidation") return Consolidation(argc, argv);
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return Usage(command.empty() ? "" : "unknown command '" + std::string(command) + "'");
}
