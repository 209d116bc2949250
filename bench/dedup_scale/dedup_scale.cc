// bench/dedup_scale: dedup of N generated HCP records from three sources
// (crm, erp, sfa), about 10% of them duplicates of another record carrying
// typos, accent drift and format drift, against the generator's truth.
//
//   sluice-bench-dedup-scale DEDUP_YAML [--records N] [--seed S] [--shards N]
//
// Prints the resolve time (one thread), candidate pairs compared per second,
// the bands and pairwise precision/recall; the last stdout line is one JSON
// object. Records are generated in memory and ingested into a dedup shard
// (its log under $TMPDIR), then resolved once.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/dedup_scale/generator.h"
#include "bench/dedup_scale/shard_process.h"
#include "common/plan/plan.h"
#include "deduper/dedup.h"
#include "deduper/edge_routes.h"
#include "deduper/guest_rows.h"
#include "deduper/shard_route.h"

namespace sluice {
namespace {

using bench::ShardOutcome;
using bench::ShardProcess;
using bench::ShardUsage;

using bench::Generator;
using bench::kSources;
using bench::Person;

Value Text(const std::string& s) { return s.empty() ? Value::Null() : Value::Str(s); }

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Sends to every shard, then takes every answer: the shards work at once.
template <typename Out, typename SendFn, typename ReceiveFn>
Result<std::vector<Out>> OnEach(std::vector<ShardProcess>& procs, SendFn send, ReceiveFn receive) {
  for (uint32_t k = 0; k < procs.size(); ++k) SLUICE_RETURN_IF_ERROR(send(k));
  std::vector<Out> out;
  for (uint32_t k = 0; k < procs.size(); ++k) {
    SLUICE_ASSIGN_OR_RETURN(Out o, receive(k));
    out.push_back(std::move(o));
  }
  return out;
}

// What one set of shards (one process each) did with the records.
struct RunFigures {
  uint32_t shards = 0;
  bool by_request = false;  // guest rows in the pre-round, not at ingest
  double ingest_s = 0, resolve_s = 0;
  std::string rounds;            // the wall time of each round, N > 1
  std::vector<uint64_t> held;    // records routed to each shard whole (its home records)
  std::vector<uint64_t> guests;  // guest rows routed to each shard
  std::vector<ShardUsage> usage;
  double relay_cpu_s = 0;  // the bench's own CPU time while routing and relaying
  uint64_t fetched = 0;    // members handed between shards in round 4
  // Round 4's edges as relayed (each shard its view), and as they were
  // relayed before (every edge whole to every shard), serialized bytes.
  uint64_t edges_relayed = 0, edges_whole = 0;
  ShardOutcome outcome;  // summed over the shards
  double WholeCpu() const {
    double cpu = relay_cpu_s;
    for (const ShardUsage& u : usage) cpu += u.cpu_seconds;
    return cpu;
  }
  uint64_t PeakRssKb() const {
    uint64_t most = 0;
    for (const ShardUsage& u : usage) most = std::max(most, u.peak_rss_kb);
    return most;
  }
};

// The pre-round (docs/dedup.md#guests-by-request), relayed: the home
// shards' key claims to the owners, the owners' wants to every shard, each
// batch of guest rows to its owner (shard to shard in a run).
Status PreRound(std::vector<ShardProcess>& procs, RunFigures* fig) {
  const uint32_t n = static_cast<uint32_t>(procs.size());
  using Parts = std::vector<std::string>;
  auto send = [&](const char* what, const std::vector<Parts>& payload) {
    return [&procs, n, what, p = &payload](uint32_t k) {
      return procs[k].SendPreRound(what, ShardMap(n, k), (*p)[k]);
    };
  };
  auto receive = [&](uint32_t k) { return procs[k].ReceiveParts(); };
  const std::vector<Parts> none(n);
  SLUICE_ASSIGN_OR_RETURN(auto claims, OnEach<Parts>(procs, send("claim", none), receive));
  std::vector<Parts> to(n);
  for (Parts& from : claims) {
    for (size_t i = 0; i + 1 < from.size(); i += 2) {
      to.at(std::stoul(from[i])).push_back(std::move(from[i + 1]));
    }
  }
  std::vector<Parts>().swap(claims);
  SLUICE_ASSIGN_OR_RETURN(auto wants, OnEach<Parts>(procs, send("want", to), receive));
  Parts all;
  for (Parts& w : wants) all.push_back(std::move(w.at(0)));
  const std::vector<Parts> every(n, all);
  SLUICE_ASSIGN_OR_RETURN(auto rows, OnEach<Parts>(procs, send("guests_for", every), receive));
  std::vector<Parts>(n).swap(to);
  for (Parts& from : rows) {
    for (size_t i = 0; i + 1 < from.size(); i += 2) {
      unsigned owner = 0;
      unsigned long long count = 0;
      if (std::sscanf(from[i].c_str(), "%u %llu", &owner, &count) != 2 || owner >= n) {
        return Status::Corruption("shard pipe: bad guest rows header");
      }
      fig->guests[owner] += count;
      to[owner].push_back(std::move(from[i + 1]));
    }
  }
  std::vector<Parts>().swap(rows);
  return OnEach<Parts>(procs, send("take_guests", to), receive).status();
}

// The four resolve rounds of N shards (docs/dedup.md#scale-out), relayed
// here as the coordinator relays them; the members of clusters that span
// shards are handed over as the member exchange does, serialized.
Result<ShardOutcome> ResolveRounds(std::vector<ShardProcess>& procs, RunFigures* fig) {
  const uint32_t n = static_cast<uint32_t>(procs.size());
  auto timed = [&](auto begin) {
    char took[32];
    std::snprintf(took, sizeof took, "%s%.2f s", fig->rounds.empty() ? "" : ", ", Since(begin));
    fig->rounds += took;
  };
  auto t = std::chrono::steady_clock::now();
  if (fig->by_request) SLUICE_RETURN_IF_ERROR(PreRound(procs, fig));
  timed(t);
  t = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(
      auto blocks, OnEach<std::string>(
                       procs, [&](uint32_t k) { return procs[k].SendSummarize(ShardMap(n, k)); },
                       [&](uint32_t k) { return procs[k].ReceiveBlocks(); }));
  timed(t);
  t = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(
      auto patterns,
      OnEach<std::string>(
          procs, [&](uint32_t k) { return procs[k].SendCompare(ShardMap(n, k), blocks); },
          [&](uint32_t k) { return procs[k].ReceivePatterns(); }));
  timed(t);
  t = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(
      auto edges,
      OnEach<v1::DedupEdges>(
          procs, [&](uint32_t k) { return procs[k].SendDecide(ShardMap(n, k), blocks, patterns); },
          [&](uint32_t k) { return procs[k].ReceiveEdges(); }));
  timed(t);
  // Every shard's edges, each shard its own view of them (the detail of
  // its records' components only: deduper/edge_routes.h), serialized once.
  std::vector<std::string> views(n);
  {
    v1::DedupEdges merged;
    for (const auto& e : edges) merged.mutable_edges()->MergeFrom(e.edges());
    std::vector<v1::DedupEdges>().swap(edges);
    const EdgeRoutes routes(ShardMap(n, 0), merged);
    for (uint32_t k = 0; k < n; ++k) {
      routes.For(k).SerializeToString(&views[k]);
      fig->edges_relayed += views[k].size();
    }
    fig->edges_whole = uint64_t{n} * merged.ByteSizeLong();
  }
  t = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(
      auto serve,
      (OnEach<std::map<uint32_t, std::string>>(
          procs, [&](uint32_t k) { return procs[k].SendMembersFor(ShardMap(n, k), views[k]); },
          [&](uint32_t k) { return procs[k].ReceiveMembers(&fig->fetched); })));
  timed(t);
  std::vector<std::map<uint32_t, std::string>> to(n);  // per shard: from peer -> batch
  for (uint32_t from = 0; from < n; ++from) {
    for (auto& [k, batch] : serve[from]) to[k][from] = std::move(batch);
  }
  t = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(auto parts, OnEach<ShardOutcome>(
                                          procs,
                                          [&](uint32_t k) {
                                            return procs[k].SendResolveWith(ShardMap(n, k), blocks,
                                                                            views[k], to[k]);
                                          },
                                          [&](uint32_t k) { return procs[k].ReceiveOutcome(); }));
  timed(t);
  ShardOutcome out;
  for (ShardOutcome& p : parts) {
    out.in += p.in;
    out.comparisons += p.comparisons;
    out.merge += p.merge;
    out.review += p.review;
    out.distinct += p.distinct;
    out.merged_records += p.merged_records;
    out.review_records += p.review_records;
    out.compare_seconds = std::max(out.compare_seconds, p.compare_seconds);
    out.compare_cpu_seconds += p.compare_cpu_seconds;
    for (auto& note : p.notes) {
      if (std::find(out.notes.begin(), out.notes.end(), note) == out.notes.end()) {
        out.notes.push_back(note);
      }
    }
    for (auto& c : p.clusters) out.clusters.push_back(std::move(c));
  }
  return out;
}

// Routes every batch to `procs` as the transformer routes a run's batches
// (each record to its home and to the owner of each of its blocking keys),
// in batches of 4096 (the shard log is synced per batch), then resolves.
Result<RunFigures> RunOn(std::vector<ShardProcess>& procs, const Plan& plan,
                         const std::vector<RecordBatch>& batches, bool by_request) {
  RunFigures fig;
  const uint32_t n = static_cast<uint32_t>(procs.size());
  fig.shards = n;
  fig.by_request = by_request && n > 1;
  fig.held.assign(n, 0);
  fig.guests.assign(n, 0);
  const double cpu_start = CpuSeconds();
  SLUICE_ASSIGN_OR_RETURN(ShardRouter router,
                          ShardRouter::Create(plan, "hcp", batches[0].schema, ShardMap(n, 0)));
  router.set_guests_by_request(fig.by_request);
  const auto ingest_start = std::chrono::steady_clock::now();
  uint64_t seq = 0;
  for (const RecordBatch& b : batches) {
    for (size_t off = 0; off < b.records.size(); off += 4096) {
      const size_t end = std::min(b.records.size(), off + 4096);
      RecordBatch whole;
      whole.schema = b.schema;
      whole.id = b.id;
      whole.id.set_sequence(seq++);
      whole.records.assign(b.records.begin() + off, b.records.begin() + end);
      // Home records whole, guest rows to the owners of the other blocks.
      std::vector<RecordBatch> parts = router.Split(whole);
      SLUICE_RETURN_IF_ERROR(OnEach<bool>(
                                 procs,
                                 [&](uint32_t k) {
                                   fig.held[k] += parts[k].records.size();
                                   fig.guests[k] += guest::Count(parts[k].guest_rows);
                                   return procs[k].SendIngest(parts[k]);
                                 },
                                 [&](uint32_t k) -> Result<bool> {
                                   SLUICE_RETURN_IF_ERROR(procs[k].ReceiveAck());
                                   return true;
                                 })
                                 .status());
    }
  }
  fig.ingest_s = Since(ingest_start);
  const auto start = std::chrono::steady_clock::now();
  if (n == 1) {
    SLUICE_RETURN_IF_ERROR(procs[0].SendResolve());
    SLUICE_ASSIGN_OR_RETURN(fig.outcome, procs[0].ReceiveOutcome());
  } else {
    SLUICE_ASSIGN_OR_RETURN(fig.outcome, ResolveRounds(procs, &fig));
  }
  fig.resolve_s = Since(start);
  fig.relay_cpu_s = CpuSeconds() - cpu_start;
  for (ShardProcess& p : procs) {
    SLUICE_ASSIGN_OR_RETURN(ShardUsage u, p.Finish());
    fig.usage.push_back(u);
  }
  return fig;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: sluice-bench-dedup-scale DEDUP_YAML [--records N] [--seed S] "
                 "[--shards N] [--guests request|ingest]\n");
    return 2;
  }
  uint64_t n = 1000000, seed = 20261121;
  // --guests request (default): guest rows in the pre-round, only where a
  // block pairs them; --guests ingest: every guest row routed at ingest.
  bool by_request = true;
  // --shards N (or a list, "2,4"): 1 shard, then N shards, each shard its
  // own process, on the same records (docs/dedup.md#scale-out).
  std::vector<uint32_t> counts = {1};
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--records") n = std::stoull(argv[i + 1]);
    if (flag == "--seed") seed = std::stoull(argv[i + 1]);
    if (flag == "--guests") by_request = std::string(argv[i + 1]) != "ingest";
    if (flag == "--shards") {
      std::stringstream list(argv[i + 1]);
      for (std::string item; std::getline(list, item, ',');) {
        const uint32_t k = static_cast<uint32_t>(std::stoul(item));
        if (k > 1) counts.push_back(k);
      }
    }
  }
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<PlanIssue> issues;
  Plan plan = ParsePlan(text.str(), std::filesystem::path(argv[1]).parent_path().string(), &issues);
  for (const PlanIssue& issue : issues) {
    if (issue.path.rfind("dedup", 0) == 0 || issue.path.rfind("model", 0) == 0) {
      std::fprintf(stderr, "%s: %s\n", argv[1], issue.ToString().c_str());
      return 2;
    }
  }
  const Entity* entity = plan.model.Find("hcp");
  if (entity == nullptr) return 2;
  const Schema schema = entity->ToSchema();

  // The shard processes are forked first, while this process is small: a
  // child's peak RSS starts at its parent's at fork time. One shard, then
  // (with --shards N > 1) N shards, on the same records in one invocation.
  std::vector<std::string> logs;
  std::vector<std::vector<ShardProcess>> runs;
  for (uint32_t count : counts) {
    std::vector<ShardProcess>& procs = runs.emplace_back();
    for (uint32_t k = 0; k < count; ++k) {
      logs.push_back((std::filesystem::temp_directory_path() /
                      ("sluice-dedup-scale-" + std::to_string(getpid()) + "-" +
                       std::to_string(count) + "-" + std::to_string(k) + ".log"))
                         .string());
      std::filesystem::remove(logs.back());
      auto proc = ShardProcess::Spawn(plan, "hcp", logs.back());
      if (!proc.ok()) {
        std::fprintf(stderr, "%s\n", proc.status().ToString().c_str());
        return 1;
      }
      procs.push_back(*proc);
    }
  }

  // Generate: ~91% originals, ~9% duplicates of a random earlier original
  // (10% of the originals' count), spread over the three sources.
  const auto gen_start = std::chrono::steady_clock::now();
  Generator gen(seed);
  const uint64_t originals = n * 10 / 11;
  std::vector<Person> people;
  people.reserve(originals);
  std::vector<RecordBatch> batches(3);
  for (int s = 0; s < 3; ++s) {
    batches[s].schema = schema;
    batches[s].id.set_run_id("scale");
    batches[s].id.set_entity("hcp");
    batches[s].id.set_source(kSources[s]);
  }
  std::unordered_map<std::string, uint64_t> entity_of;  // "source:key" -> entity
  entity_of.reserve(n);
  auto add = [&](const Person& p, uint64_t id, int source) {
    Record r;
    r.source = kSources[source];
    r.key = std::string(1, static_cast<char>('A' + source)) + std::to_string(entity_of.size());
    r.values = {Text(p.nid),       Text(p.first),        Text(p.last),  Value::Int(p.birth),
                Text(p.postcode),  Text(p.city),         Text(p.phone), Text(p.email),
                Text(p.specialty), Value::Int(p.updated)};
    entity_of.emplace(r.source + ":" + r.key, id);
    batches[source].records.push_back(std::move(r));
  };
  for (uint64_t i = 0; i < n; ++i) {
    if (i < originals / 10 || gen.P(10.0 / 11.0) || people.empty()) {
      if (people.size() < originals || people.empty()) {
        people.push_back(gen.Make(people.size()));
        add(people.back(), people.size() - 1, static_cast<int>(gen.U(3)));
        continue;
      }
    }
    const uint64_t id = gen.U(people.size());
    add(gen.Drift(people[id]), id, static_cast<int>(gen.U(3)));
  }
  people = {};
  std::map<uint64_t, uint64_t> sizes;
  for (const auto& [k, id] : entity_of) ++sizes[id];
  uint64_t true_pairs = 0, duplicates = 0;
  for (const auto& [id, c] : sizes) {
    true_pairs += c * (c - 1) / 2;
    duplicates += c - 1;
  }
  for (auto& b : batches) b.RehashAll();
  const double gen_s = Since(gen_start);
  std::printf("records %llu (%llu duplicates, %llu true pairs), generated in %.1f s\n",
              (unsigned long long)n, (unsigned long long)duplicates, (unsigned long long)true_pairs,
              gen_s);

  std::vector<RunFigures> figures;
  for (std::vector<ShardProcess>& procs : runs) {
    Result<RunFigures> fig = RunOn(procs, plan, batches, by_request);
    if (!fig.ok()) {
      std::fprintf(stderr, "%s\n", fig.status().ToString().c_str());
      for (const std::string& log : logs) std::filesystem::remove(log);
      return 1;
    }
    figures.push_back(std::move(*fig));
  }
  for (const std::string& log : logs) std::filesystem::remove(log);

  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::string json, ratio_json;
  for (const RunFigures& f : figures) {
    const ShardOutcome& st = f.outcome;
    // Pairwise precision and recall over merged clusters.
    uint64_t predicted = 0, correct = 0;
    for (const std::vector<std::string>& names : st.clusters) {
      std::map<uint64_t, uint64_t> count;
      for (const std::string& name : names) ++count[entity_of.at(name)];
      const uint64_t size = names.size();
      predicted += size * (size - 1) / 2;
      for (const auto& [e, c] : count) correct += c * (c - 1) / 2;
    }
    const double precision = predicted ? double(correct) / predicted : 1.0;
    const double recall = true_pairs ? double(correct) / true_pairs : 1.0;
    const double compare_per_s = st.compare_seconds > 0 ? st.comparisons / st.compare_seconds : 0;
    // The same per second of the pass's CPU time: on this shared machine the
    // wall time also counts the time other processes held the core.
    const double compare_per_cpu_s =
        st.compare_cpu_seconds > 0 ? st.comparisons / st.compare_cpu_seconds : 0;
    if (f.shards == 1) {
      for (const std::string& note : st.notes) std::printf("%s\n", note.c_str());
    }
    std::printf("== %u shard(s), one process each\n", f.shards);
    if (!f.rounds.empty()) {
      std::printf(
          "guest rows %s; rounds (pre-round, summaries, patterns, edges, members to serve, "
          "resolve): %s\n",
          f.by_request ? "by request (pre-round)" : "at ingest", f.rounds.c_str());
    }
    std::printf(
        "ingest (routed, shard log fsync per batch) %.2f s; resolve %.2f s: %llu candidate "
        "pairs compared in %.2f s (%.0f pairs/s/core; %.0f pairs per CPU second)\n",
        f.ingest_s, f.resolve_s, (unsigned long long)st.comparisons, st.compare_seconds,
        compare_per_s, compare_per_cpu_s);
    std::printf(
        "bands: merge %llu, review %llu, distinct %llu pairs; %llu records merged, %llu held "
        "for review\n",
        (unsigned long long)st.merge, (unsigned long long)st.review,
        (unsigned long long)st.distinct, (unsigned long long)st.merged_records,
        (unsigned long long)st.review_records);
    std::printf("pairwise precision %.4f recall %.4f (predicted %llu, correct %llu)\n", precision,
                recall, (unsigned long long)predicted, (unsigned long long)correct);
    std::string shares, guests, rss, cpu;
    uint64_t most = 0;
    double shard_cpu = 0;
    for (uint32_t k = 0; k < f.shards; ++k) {
      most = std::max(most, f.held[k]);
      shares += (k ? ", " : "") + std::to_string(f.held[k]);
      guests += (k ? ", " : "") + std::to_string(f.guests[k]);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%.0f", k ? ", " : "", f.usage[k].peak_rss_kb / 1024.0);
      rss += buf;
      std::snprintf(buf, sizeof buf, "%s%.2f", k ? ", " : "", f.usage[k].cpu_seconds);
      cpu += buf;
      shard_cpu += f.usage[k].cpu_seconds;
    }
    std::printf(
        "records held whole per shard: %s (largest %.1f%% of %llu); guest rows per shard: %s; "
        "%llu members fetched\n",
        shares.c_str(), 100.0 * most / n, (unsigned long long)n, guests.c_str(),
        (unsigned long long)f.fetched);
    if (f.shards > 1) {
      std::printf(
          "round-4 edges relayed: %.1f MB (each shard its view; every edge whole to every "
          "shard: %.1f MB)\n",
          f.edges_relayed / 1e6, f.edges_whole / 1e6);
    }
    std::printf("peak RSS per shard (MiB): %s\n", rss.c_str());
    std::printf("CPU per shard (s): %s; shards %.2f s + routing/relay %.2f s = whole run %.2f s\n",
                cpu.c_str(), shard_cpu, f.relay_cpu_s, f.WholeCpu());
    char part[1024];
    std::snprintf(part, sizeof part,
                  "\"shards\": %u, \"resolve_s\": %.3f, \"ingest_s\": %.3f, "
                  "\"whole_cpu_s\": %.3f, \"max_shard_peak_rss_mib\": %.1f, "
                  "\"comparisons\": %llu, \"compare_s\": %.3f, \"compare_cpu_s\": %.3f, "
                  "\"comparisons_per_cpu_s\": %.0f, \"merged_records\": %llu, "
                  "\"review_records\": %llu, \"precision\": %.4f, \"recall\": %.4f, "
                  "\"largest_shard_share\": %.4f, \"members_fetched\": %llu",
                  f.shards, f.resolve_s, f.ingest_s, f.WholeCpu(), f.PeakRssKb() / 1024.0,
                  (unsigned long long)st.comparisons, st.compare_seconds, st.compare_cpu_seconds,
                  compare_per_cpu_s, (unsigned long long)st.merged_records,
                  (unsigned long long)st.review_records, precision, recall, double(most) / n,
                  (unsigned long long)f.fetched);
    json += std::string(json.empty() ? "" : ", ") + "{" + part + "}";
  }
  std::printf("load average at the end: %.2f %.2f %.2f (2 cores, shared)\n", load[0], load[1],
              load[2]);
  for (size_t i = 1; i < figures.size(); ++i) {
    const RunFigures &one = figures[0], &many = figures[i];
    const double wall = many.resolve_s / one.resolve_s;
    const double cpu = many.WholeCpu() / one.WholeCpu();
    const double rss = double(many.PeakRssKb()) / one.PeakRssKb();
    std::printf(
        "%u shards against 1: resolve wall %.2fx, whole-run CPU %.2fx, largest shard peak RSS "
        "%.2fx of the single shard's\n",
        many.shards, wall, cpu, rss);
    if (many.shards == 2) {
      std::printf("goals (2 shards): resolve <= 0.60x: %s; each shard's RSS <= 0.60x: %s\n",
                  wall <= 0.6 ? "met" : "NOT met", rss <= 0.6 ? "met" : "NOT met");
    } else if (many.shards == 4) {
      std::printf("goals (4 shards): CPU <= 1.25x: %s; each shard's RSS <= 0.35x: %s\n",
                  cpu <= 1.25 ? "met" : "NOT met", rss <= 0.35 ? "met" : "NOT met");
    }
    char ratios[256];
    std::snprintf(ratios, sizeof ratios,
                  ", \"ratios_%u\": {\"resolve\": %.3f, \"cpu\": %.3f, \"rss\": %.3f}", many.shards,
                  wall, cpu, rss);
    ratio_json += ratios;
  }
  std::printf(
      "{\"records\": %llu, \"duplicates\": %llu, \"true_pairs\": %llu, \"load1\": %.2f, "
      "\"runs\": [%s]%s}\n",
      (unsigned long long)n, (unsigned long long)duplicates, (unsigned long long)true_pairs,
      load[0], json.c_str(), ratio_json.c_str());
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
