// Shared by the dedup scale-out tests (shard_map_test.cc, shard_rounds_test.cc):
// a person entity, generated people with drifting duplicates in two
// sources, the dedup spec they are resolved under, and what a resolution
// keeps independent of the shard that emitted it.
#pragma once

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/core/record.h"
#include "deduper/dedup.h"

namespace sluice::shard_testing {

inline Schema PersonSchema() {
  Schema s;
  s.fields = {{"national_id", FieldType::kString},
              {"first_name", FieldType::kString},
              {"last_name", FieldType::kString},
              {"postcode", FieldType::kString},
              {"birth_date", FieldType::kDate}};
  return s;
}

inline BlockingRule Rule(const std::string& name, std::vector<BlockingPart> parts) {
  BlockingRule r;
  r.name = name;
  r.parts = std::move(parts);
  r.yaml_path = "dedup.person.blocking." + name;
  return r;
}

// People with duplicates carrying typos, missing ids and placeholders, in
// two sources; one postcode crowded enough to make an oversize block.
inline std::vector<Record> People(int n, uint32_t seed) {
  static const char* kFirst[] = {"anna", "jean", "paul", "marie", "louis", "claire", "hugo"};
  static const char* kLast[] = {"martin",  "dupont", "durand", "bernard",  "petit", "moreau",
                                "laurent", "simon",  "michel", "lefebvre", "leroy", "roux"};
  std::mt19937 rng(seed);
  std::vector<Record> out;
  auto make = [&](const std::string& source, const std::string& key, const std::string& nid,
                  std::string first, std::string last, const std::string& postcode, int64_t day) {
    Record r;
    r.source = source;
    r.key = key;
    r.values = {nid.empty() ? Value::Null() : Value::Str(nid), Value::Str(std::move(first)),
                Value::Str(std::move(last)), Value::Str(postcode), Value::Int(day)};
    out.push_back(std::move(r));
  };
  for (int i = 0; i < n; ++i) {
    const std::string first = kFirst[rng() % 7];
    const std::string last = std::string(kLast[rng() % 12]) + (rng() % 3 == 0 ? "e" : "");
    const std::string postcode = rng() % 10 == 0 ? "75001" : std::to_string(10000 + rng() % 40);
    const int64_t day = 3000 + static_cast<int64_t>(rng() % 9000);
    std::string nid = rng() % 6 == 0 ? "" : "N" + std::to_string(i);
    if (rng() % 25 == 0) nid = "UNKNOWN";
    make("crm", "c" + std::to_string(i), nid, first, last, postcode, day);
    if (rng() % 4 == 0) {  // a duplicate in the other source, with drift
      std::string typo = last;
      if (typo.size() > 3) std::swap(typo[1], typo[2]);
      make("erp", "e" + std::to_string(i), rng() % 2 ? nid : "", first, rng() % 2 ? typo : last,
           postcode, rng() % 3 ? day : day + 1);
    }
  }
  return out;
}

inline DedupSpec PersonSpec() {
  DedupSpec spec;
  spec.entity = "person";
  spec.yaml_path = "dedup.person";
  spec.source_priority = {"crm", "erp"};
  spec.placeholders = {"UNKNOWN"};
  spec.max_block_size = 60;
  spec.blocking = {Rule("nid", {{"national_id", "value", 0}}),
                   Rule("sound_post", {{"last_name", "soundex", 0}, {"postcode", "value", 0}}),
                   Rule("last3_year", {{"last_name", "prefix", 3}, {"birth_date", "year", 0}}),
                   Rule("postcode", {{"postcode", "value", 0}})};
  MatchRuleSpec same_id;
  same_id.name = "same_national_id";
  same_id.terms = {{"exact", "national_id", "", 0, false}};
  same_id.text = "national_id exact";
  spec.rules = {same_id};
  DedupComparison first{"first_name", "first_name", "jaro_winkler", {0.9}, {}, {}, ""};
  DedupComparison last{"last_name", "last_name", "jaro_winkler", {0.92, 0.8}, {}, {}, ""};
  DedupComparison birth{"birth_date", "birth_date", "date", {1}, {}, {}, ""};
  DedupComparison post{"postcode", "postcode", "exact", {}, {}, {}, ""};
  spec.comparisons = {first, last, birth, post};
  spec.merge_threshold = 8;
  spec.review_threshold = 3;
  spec.weak_link_threshold = 8;
  spec.u_sample_pairs = 5000;
  spec.max_cluster_size = 4;
  return spec;
}

inline RecordBatch Batch(const std::string& source, uint64_t sequence,
                         std::vector<Record> records) {
  RecordBatch b;
  b.id.set_run_id("run-1");
  b.id.set_wave(0);
  b.id.set_entity("person");
  b.id.set_source(source);
  b.id.set_sequence(sequence);
  b.schema = PersonSchema();
  b.records = std::move(records);
  b.RehashAll();
  return b;
}

// What a run keeps of a resolution, independent of which shard emitted it.
struct Outcome {
  std::vector<std::string> survivors;  // source:key merged[...] values
  std::vector<std::string> fates;
  std::vector<std::string> decisions;
  std::vector<std::string> review_items;
  uint64_t in = 0, comparisons = 0;
  // The m, u and weights of each comparison, from every resolution that
  // estimated them: the same EM on every shard.
  std::set<std::string> estimates;
};

inline void Add(const Resolution& res, Outcome* o) {
  for (const RecordBatch& b : res.batches) {
    for (const Record& r : b.records) {
      std::string s = r.source + ":" + r.key + " <-";
      for (const SourceKey& m : r.merged) s += " " + m.source + ":" + m.key;
      for (size_t f = 0; f < r.values.size(); ++f) {
        s += "|" + FormatValue(b.schema.fields[f], r.values[f]).value_or("NULL");
      }
      o->survivors.push_back(s);
    }
  }
  for (const v1::Fate& f : res.fates) o->fates.push_back(f.SerializeAsString());
  for (const v1::MatchDecision& d : res.decisions) o->decisions.push_back(d.SerializeAsString());
  for (const v1::ReviewItem& i : res.review_items) o->review_items.push_back(i.SerializeAsString());
  o->in += res.in;
  o->comparisons += res.stats.comparisons;
  for (const std::string& note : res.stats.notes) {
    if (note.rfind("comparison ", 0) == 0) o->estimates.insert(note);
  }
}

inline void Sort(Outcome* o) {
  for (auto* v : {&o->survivors, &o->fates, &o->decisions, &o->review_items}) {
    std::sort(v->begin(), v->end());
  }
}

}  // namespace sluice::shard_testing
