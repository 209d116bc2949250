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
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/plan/plan.h"
#include "deduper/dedup.h"
#include "deduper/shard_route.h"

namespace sluice {
namespace {

const char* kFirst[] = {
    "Jean",     "José",     "Zoé",      "François", "Hélène",  "Jürgen",   "Łukasz",   "Anna",
    "Marie",    "Pierre",   "Paul",     "Louis",    "Chloé",   "Léa",      "Camille",  "Hugo",
    "Lucas",    "Emma",     "Inès",     "Noémie",   "Thomas",  "Nicolas",  "Julien",   "Sébastien",
    "Émile",    "Agnès",    "Bérénice", "Céline",   "Denis",   "Éric",     "Fabienne", "Gérard",
    "Isabelle", "Jérôme",   "Karine",   "Laurent",  "Michel",  "Nathalie", "Olivier",  "Patrick",
    "Quentin",  "Raphaël",  "Sophie",   "Thérèse",  "Ursula",  "Valérie",  "William",  "Xavier",
    "Yves",     "Zacharie", "Ana",      "João",     "Søren",   "Åsa",      "Björn",    "Mónica",
    "Iñaki",    "Núria",    "Dorothée", "Gaëlle",   "Maëlle",  "Joël",     "Anaïs",    "Loïc",
    "Benoît",   "Mathéo",   "Clément",  "Timothée", "Aurélie", "Stéphane", "Frédéric", "André",
    "Renée"};
const char* kSyllables[] = {"mar", "tin",  "ber", "nard", "du",   "bois", "mo",    "reau", "la",
                            "fon", "ta",   "ine", "ro",   "bert", "ri",   "chard", "pe",   "tit",
                            "gar", "nier", "fa",  "ure",  "mer",  "cier", "blanc", "che",  "val",
                            "lé",  "vè",   "que", "gué",  "rin",  "bou",  "cher",  "ro",   "ux",
                            "hen", "ry",   "sch", "mitt", "mül",  "ler",  "wag",   "ner",  "kow",
                            "al",  "ski",  "gon", "za",   "lez",  "fer",  "nán",   "dez",  "sil",
                            "va",  "cos",  "ta",  "ol",   "sen",  "jo",   "han",   "sson"};
const char* kCities[] = {"Paris",  "Lyon",       "Marseille",     "Toulouse", "Nice",
                         "Nantes", "Strasbourg", "Montpellier",   "Bordeaux", "Lille",
                         "Rennes", "Reims",      "Saint-Étienne", "Le Havre", "Grenoble",
                         "Dijon",  "Angers",     "Nîmes",         "Besançon", "Orléans"};
const char* kSpecialties[] = {"cardiology", "general_practice", "oncology",
                              "pediatrics", "dermatology",      "neurology"};
const char* kSources[] = {"crm", "erp", "sfa"};

struct Person {
  std::string nid, first, last, postcode, city, phone, email, specialty;
  int64_t birth = 0, updated = 0;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  uint64_t U(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool P(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  Person Make(uint64_t id) {
    Person p;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%011llu", (unsigned long long)(10000000000ULL + id * 7919));
    p.nid = buf;
    p.first = kFirst[U(std::size(kFirst))];
    const int parts = 2 + static_cast<int>(U(2));
    for (int i = 0; i < parts; ++i) p.last += kSyllables[U(std::size(kSyllables))];
    p.last[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(p.last[0])));
    p.birth = -10957 + static_cast<int64_t>(U(365 * 60));  // 1940..2000
    std::snprintf(buf, sizeof buf, "%05llu", (unsigned long long)(1000 + U(94000)));
    p.postcode = buf;
    p.city = kCities[U(std::size(kCities))];
    std::snprintf(buf, sizeof buf, "+33%09llu", (unsigned long long)(100000000 + U(800000000)));
    p.phone = buf;
    p.email = Ascii(p.first) + "." + Ascii(p.last) + std::to_string(U(100)) + "@example.org";
    p.specialty = kSpecialties[U(std::size(kSpecialties))];
    p.updated = 18000 + static_cast<int64_t>(U(1500));
    return p;
  }

  // A copy with the drift real systems show: typos, lost accents, upper
  // case, another phone format, a missing national id, a date off by days.
  Person Drift(const Person& src) {
    Person p = src;
    if (P(0.5)) p.first = Typo(p.first);
    if (P(0.5)) p.last = Typo(p.last);
    if (P(0.4)) p.first = Ascii(p.first);
    if (P(0.4)) p.last = Ascii(p.last);
    if (P(0.3)) p.last = Upper(p.last);
    if (P(0.5))
      p.phone = "0" + p.phone.substr(3, 1) + " " + p.phone.substr(4, 2) + " " +
                p.phone.substr(6, 2) + " " + p.phone.substr(8, 2) + " " + p.phone.substr(10, 2);
    if (P(0.2)) p.phone = "N/A";
    if (P(0.4)) p.nid = P(0.5) ? "" : "UNKNOWN";
    if (P(0.1)) p.birth += static_cast<int64_t>(U(20)) - 10;
    if (P(0.2)) p.email = Typo(p.email);
    if (P(0.1)) p.city = Upper(p.city);
    p.updated = src.updated + static_cast<int64_t>(U(300));
    return p;
  }

 private:
  std::string Typo(const std::string& s) {
    if (s.size() < 3) return s;
    std::string t = s;
    size_t i = 1 + U(t.size() - 2);
    while (i > 0 && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80) --i;  // a char start
    if (static_cast<unsigned char>(t[i]) >= 0x80 || static_cast<unsigned char>(t[i + 1]) >= 0x80) {
      return t;
    }
    switch (U(3)) {
      case 0:
        std::swap(t[i], t[i + 1]);
        break;
      case 1:
        t.erase(i, 1);
        break;
      default:
        t[i] = static_cast<char>('a' + U(26));
    }
    return t;
  }
  static std::string Upper(const std::string& s) {
    std::string t = s;
    for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return t;
  }
  // Drops the accents of the Latin letters used above.
  static std::string Ascii(const std::string& s) {
    static const std::map<std::string, std::string> kPlain = {
        {"é", "e"}, {"è", "e"}, {"ê", "e"}, {"ë", "e"}, {"É", "E"}, {"ç", "c"}, {"ü", "u"},
        {"Ł", "L"}, {"ï", "i"}, {"î", "i"}, {"ô", "o"}, {"ø", "o"}, {"Å", "A"}, {"ö", "o"},
        {"ó", "o"}, {"ñ", "n"}, {"ú", "u"}, {"á", "a"}, {"ã", "a"}, {"à", "a"}};
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (static_cast<unsigned char>(s[i]) < 0x80) {
        out += s[i++];
        continue;
      }
      auto it = i + 1 < s.size() ? kPlain.find(s.substr(i, 2)) : kPlain.end();
      if (it != kPlain.end()) {
        out += it->second;
        i += 2;
      } else {
        out += s[i++];
      }
    }
    return out;
  }
  std::mt19937_64 rng_;
};

Value Text(const std::string& s) { return s.empty() ? Value::Null() : Value::Str(s); }

// The four resolve rounds of N shards (docs/dedup.md#scale-out), each
// shard on its own thread, relayed here as the coordinator relays them (the
// members of clusters that span shards handed over in memory instead of
// over the member sockets); the shards' resolutions combined (their stats
// summed, the comparison pass timed by its slowest shard).
Result<Resolution> ResolveOnShards(std::vector<std::unique_ptr<DedupShard>>& shards,
                                   const v1::BatchId& id, size_t batch_size, uint64_t* fetched) {
  const uint32_t n = static_cast<uint32_t>(shards.size());
  std::vector<Status> errors(n);
  std::string rounds;  // wall time of each round, printed for where the time goes
  auto each = [&](auto fn) {
    const auto begin = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (uint32_t k = 0; k < n; ++k) threads.emplace_back([&, k] { errors[k] = fn(k); });
    for (auto& t : threads) t.join();
    char took[32];
    std::snprintf(took, sizeof took, "%s%.2f s", rounds.empty() ? "" : ", ",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    rounds += took;
    for (const Status& st : errors) {
      if (!st.ok()) return st;
    }
    return Status::Ok();
  };
  std::vector<v1::DedupBlocks> blocks(n);
  SLUICE_RETURN_IF_ERROR(each([&](uint32_t k) {
    SLUICE_ASSIGN_OR_RETURN(blocks[k], shards[k]->SummarizeBlocks(ShardMap(n, k)));
    return Status::Ok();
  }));
  std::vector<v1::DedupPatterns> patterns(n);
  SLUICE_RETURN_IF_ERROR(each([&](uint32_t k) {
    SLUICE_ASSIGN_OR_RETURN(patterns[k], shards[k]->ComparePairs(ShardMap(n, k), blocks));
    return Status::Ok();
  }));
  std::vector<v1::DedupEdges> edges(n);
  SLUICE_RETURN_IF_ERROR(each([&](uint32_t k) {
    SLUICE_ASSIGN_OR_RETURN(edges[k], shards[k]->DecidePairs(ShardMap(n, k), blocks, patterns));
    return Status::Ok();
  }));
  v1::DedupEdges all;
  for (const auto& e : edges) all.mutable_edges()->MergeFrom(e.edges());
  std::vector<std::map<uint32_t, RecordBatch>> serve(n);
  SLUICE_RETURN_IF_ERROR(each([&](uint32_t k) {
    SLUICE_ASSIGN_OR_RETURN(serve[k], shards[k]->MembersFor(ShardMap(n, k), all));
    return Status::Ok();
  }));
  for (const auto& by_shard : serve) {
    for (const auto& [to, batch] : by_shard) *fetched += batch.records.size();
  }
  std::vector<Resolution> parts(n);
  SLUICE_RETURN_IF_ERROR(each([&](uint32_t k) {
    v1::BatchId shard_id = id;
    shard_id.set_source("dedup/" + std::to_string(k));
    auto fetch = [&, k](uint32_t peer) -> Result<std::vector<Record>> {
      auto it = serve[peer].find(k);
      return it == serve[peer].end() ? std::vector<Record>{} : it->second.records;
    };
    SLUICE_ASSIGN_OR_RETURN(
        parts[k], shards[k]->ResolveWith(ShardMap(n, k), blocks, all, fetch, shard_id, batch_size));
    return Status::Ok();
  }));
  std::printf("rounds (summaries, patterns, edges, members to serve, resolve): %s\n",
              rounds.c_str());
  Resolution out;
  for (Resolution& p : parts) {
    for (auto& b : p.batches) out.batches.push_back(std::move(b));
    for (auto& f : p.fates) out.fates.push_back(std::move(f));
    MatchStats& st = out.stats;
    st.comparisons += p.stats.comparisons;
    st.merge += p.stats.merge;
    st.review += p.stats.review;
    st.distinct += p.stats.distinct;
    st.compare_seconds = std::max(st.compare_seconds, p.stats.compare_seconds);
    st.compare_cpu_seconds += p.stats.compare_cpu_seconds;
    for (auto& note : p.stats.notes) {
      if (std::find(st.notes.begin(), st.notes.end(), note) == st.notes.end()) {
        st.notes.push_back(note);
      }
    }
    out.in += p.in;
  }
  return out;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: sluice-bench-dedup-scale DEDUP_YAML [--records N] [--seed S] "
                 "[--shards N]\n");
    return 2;
  }
  uint64_t n = 1000000, seed = 20261121;
  uint32_t shard_count = 1;  // --shards N: N dedup shards, one thread each (docs/dedup.md)
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--records") n = std::stoull(argv[i + 1]);
    if (flag == "--seed") seed = std::stoull(argv[i + 1]);
    if (flag == "--shards") shard_count = static_cast<uint32_t>(std::stoul(argv[i + 1]));
  }
  if (shard_count == 0) shard_count = 1;
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

  // Generate: ~91% originals, ~9% duplicates of a random earlier original
  // (10% of the originals' count), spread over the three sources.
  const auto gen_start = std::chrono::steady_clock::now();
  Generator gen(seed);
  const uint64_t originals = n * 10 / 11;
  std::vector<Person> people;
  people.reserve(originals);
  std::vector<uint64_t> truth;  // entity of each record, in batch order
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
  std::map<uint64_t, uint64_t> sizes;
  for (const auto& [k, id] : entity_of) ++sizes[id];
  uint64_t true_pairs = 0, duplicates = 0;
  for (const auto& [id, c] : sizes) {
    true_pairs += c * (c - 1) / 2;
    duplicates += c - 1;
  }
  for (auto& b : batches) b.RehashAll();
  const double gen_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - gen_start).count();

  // One shard log per shard; each batch is routed by key as the
  // transformer routes it in a run (deduper/shard_route.h).
  std::vector<std::string> logs;
  std::vector<std::unique_ptr<DedupShard>> shards;
  for (uint32_t k = 0; k < shard_count; ++k) {
    logs.push_back(
        (std::filesystem::temp_directory_path() /
         ("sluice-dedup-scale-" + std::to_string(getpid()) + "-" + std::to_string(k) + ".log"))
            .string());
    std::filesystem::remove(logs.back());
    auto shard = DedupShard::Create(plan, "hcp", logs.back());
    if (!shard.ok()) {
      std::fprintf(stderr, "%s\n", shard.status().ToString().c_str());
      return 1;
    }
    shards.push_back(std::move(*shard));
  }
  auto router = ShardRouter::Create(plan, "hcp", batches[0].schema, ShardMap(shard_count, 0));
  if (!router.ok()) {
    std::fprintf(stderr, "%s\n", router.status().ToString().c_str());
    return 1;
  }
  // Ingest in batches of 4096 like a run (the log is synced per batch),
  // the shards in parallel as the processes of a run are.
  const auto ingest_start = std::chrono::steady_clock::now();
  std::vector<uint64_t> held(shard_count, 0);
  uint64_t seq = 0;
  for (auto& b : batches) {
    for (size_t off = 0; off < b.records.size(); off += 4096) {
      RecordBatch whole;
      whole.schema = b.schema;
      whole.id = b.id;
      whole.id.set_sequence(seq++);
      const size_t end = std::min(b.records.size(), off + 4096);
      whole.records.assign(b.records.begin() + off, b.records.begin() + end);
      std::vector<std::vector<uint32_t>> routes = router->Route(whole.records);
      std::vector<Status> errors(shard_count);
      std::vector<std::thread> threads;
      for (uint32_t k = 0; k < shard_count; ++k) {
        threads.emplace_back([&, k] {
          RecordBatch part;
          part.schema = whole.schema;
          part.id = whole.id;
          for (uint32_t i : routes[k]) {
            part.records.push_back(whole.records[i]);
            part.positions.push_back(i);
          }
          held[k] += part.records.size();
          errors[k] = shards[k]->Ingest(part).status();
        });
      }
      for (auto& t : threads) t.join();
      for (const Status& st : errors) {
        if (!st.ok()) {
          std::fprintf(stderr, "%s\n", st.ToString().c_str());
          return 1;
        }
      }
    }
    b.records = {};
  }
  const double ingest_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ingest_start).count();
  v1::BatchId id;
  id.set_run_id("scale");
  id.set_entity("hcp");
  id.set_source("dedup/0");
  uint64_t fetched = 0;  // members handed between shards in round 4
  const auto start = std::chrono::steady_clock::now();
  Result<Resolution> res =
      shard_count == 1 ? shards[0]->Resolve(id, 4096) : ResolveOnShards(shards, id, 4096, &fetched);
  const double resolve_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::string& log : logs) std::filesystem::remove(log);
  if (!res.ok()) {
    std::fprintf(stderr, "%s\n", res.status().ToString().c_str());
    return 1;
  }

  // Pairwise precision and recall over merged clusters.
  uint64_t predicted = 0, correct = 0, review = 0, merged = 0;
  for (const RecordBatch& b : res->batches) {
    for (const Record& r : b.records) {
      if (r.merged.empty()) continue;
      std::map<uint64_t, uint64_t> count;
      ++count[entity_of.at(r.source + ":" + r.key)];
      for (const SourceKey& m : r.merged) ++count[entity_of.at(m.source + ":" + m.key)];
      const uint64_t size = r.merged.size() + 1;
      predicted += size * (size - 1) / 2;
      for (const auto& [e, c] : count) correct += c * (c - 1) / 2;
    }
  }
  for (const auto& f : res->fates) {
    review += f.kind() == v1::FATE_REVIEW;
    merged += f.kind() == v1::FATE_MERGED;
  }
  const MatchStats& st = res->stats;
  const double precision = predicted ? double(correct) / predicted : 1.0;
  const double recall = true_pairs ? double(correct) / true_pairs : 1.0;
  const double per_s = st.comparisons / resolve_s;
  const double compare_per_s = st.compare_seconds > 0 ? st.comparisons / st.compare_seconds : 0;
  // The same per second of the pass's CPU time: on this shared machine the
  // wall time also counts the time other processes held the core.
  const double compare_per_cpu_s =
      st.compare_cpu_seconds > 0 ? st.comparisons / st.compare_cpu_seconds : 0;
  for (const std::string& note : st.notes) std::printf("%s\n", note.c_str());
  std::printf(
      "records %llu (%llu duplicates, %llu true pairs), generated in %.1f s, ingested "
      "(shard log, fsync per batch) in %.1f s\n",
      (unsigned long long)n, (unsigned long long)duplicates, (unsigned long long)true_pairs, gen_s,
      ingest_s);
  std::printf(
      "resolve %.2f s on %u shard(s), one thread each: %llu candidate pairs compared in %.2f s "
      "(%.0f pairs/s/core in the comparison pass, %.0f over the whole resolve)\n",
      resolve_s, shard_count, (unsigned long long)st.comparisons, st.compare_seconds, compare_per_s,
      per_s);
  std::printf("comparison pass CPU time %.2f s: %.0f pairs per CPU second\n",
              st.compare_cpu_seconds, compare_per_cpu_s);
  std::printf(
      "bands: merge %llu, review %llu, distinct %llu pairs; %llu records merged, %llu "
      "held for review\n",
      (unsigned long long)st.merge, (unsigned long long)st.review, (unsigned long long)st.distinct,
      (unsigned long long)merged, (unsigned long long)review);
  std::printf("pairwise precision %.4f recall %.4f (predicted %llu, correct %llu)\n", precision,
              recall, (unsigned long long)predicted, (unsigned long long)correct);
  // What routing by key put on each shard (its home records and the
  // members of the blocks it owns), the largest share, and the members
  // handed between shards for golden records.
  uint64_t most = 0;
  std::string shares;
  for (uint32_t k = 0; k < shard_count; ++k) {
    most = std::max(most, held[k]);
    shares += (k ? ", " : "") + std::to_string(held[k]);
  }
  std::printf(
      "records held per shard: %s (largest %.1f%% of %llu); %llu members fetched from "
      "other shards\n",
      shares.c_str(), 100.0 * most / n, (unsigned long long)n, (unsigned long long)fetched);
  std::printf(
      "{\"shards\": %u, \"records\": %llu, \"duplicates\": %llu, \"true_pairs\": %llu, "
      "\"resolve_s\": "
      "%.3f, \"comparisons\": %llu, \"compare_s\": %.3f, "
      "\"comparisons_per_s_per_core\": %.0f, \"compare_cpu_s\": %.3f, "
      "\"comparisons_per_cpu_s\": %.0f, \"comparisons_per_s_whole_resolve\": %.0f, "
      "\"merged_records\": %llu, \"review_records\": %llu, \"precision\": %.4f, "
      "\"recall\": %.4f, \"ingest_s\": %.3f, \"largest_shard_share\": %.4f, "
      "\"members_fetched\": %llu}\n",
      shard_count, (unsigned long long)n, (unsigned long long)duplicates,
      (unsigned long long)true_pairs, resolve_s, (unsigned long long)st.comparisons,
      st.compare_seconds, compare_per_s, st.compare_cpu_seconds, compare_per_cpu_s, per_s,
      (unsigned long long)merged, (unsigned long long)review, precision, recall, ingest_s,
      double(most) / n, (unsigned long long)fetched);
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
