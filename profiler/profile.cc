#include "profiler/profile.h"

#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <new>
#include <unordered_map>
#include <unordered_set>

#include "common/connectors/connector.h"
#include "common/core/hash.h"
#include "profiler/profile_columns.h"
#include "transformer/field_cast.h"
#include "transformer/reference_data.h"

namespace sluice {
namespace {

using profile_internal::CountMap;
using profile_internal::FieldStats;
using profile_internal::HashSet;
using profile_internal::TextHash;
using profile_internal::Trim;

// A value map checked against one column.
struct MapCheck {
  int column = -1;
  std::unordered_set<std::string, TextHash, std::equal_to<>> keys;
  UnmappedValues result;
  CountMap unmapped;
};

// Dedup keys of one mapping, counted into the entity's key set.
struct KeyCheck {
  std::vector<int> columns;
  DuplicateEstimate* estimate = nullptr;
  HashSet* seen = nullptr;
};

// Reference values of one mapping, checked against the parent's keys later.
struct RefCheck {
  int column = -1;
  OrphanReferences result;
  CountMap values;
};

// The trimmed text of cell `i`; `integral[i]`: the schema's IsIntegral of
// column i, looked up once per source rather than once per cell.
inline std::string_view CellText(const Schema& schema, const std::vector<char>& integral,
                                 const Record& r, size_t i, std::string* scratch) {
  if (i >= r.values.size() || r.values[i].is_null) return {};
  const Value& v = r.values[i];
  if (integral[i]) {
    *scratch = FormatValue(schema.fields[i], v).value_or("");
    return Trim(*scratch);
  }
  return Trim(v.s);
}

}  // namespace

std::string DateOrderEvidence::Verdict() const {
  if (day_first == 0 && month_first == 0 && ambiguous == 0) return "";
  if (day_first > 0 && month_first > 0) return "mixed";
  if (day_first > 0) return "day-first";
  if (month_first > 0) return "month-first";
  return "ambiguous";
}

Result<PlanProfile> ProfilePlan(const Plan& plan, const ProfileOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  PlanProfile out;
  out.plan = plan.name;

  // Dedup key sets per entity, and parent key sets per entity.
  std::map<std::string, DuplicateEstimate> dup_by_entity;
  std::map<std::string, HashSet> dup_seen;
  std::set<std::string> parents;
  for (const Entity& e : plan.model.entities) {
    for (const ModelField& f : e.fields) {
      if (f.type == FieldType::kReference && !f.references.empty()) parents.insert(f.references);
    }
  }
  std::map<std::string, HashSet> parent_keys;
  std::vector<RefCheck> all_refs;

  for (const SourceSpec& spec : plan.sources) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, OpenSource(spec));
    const Schema& schema = source->schema();
    std::vector<char> integral(schema.fields.size());
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      integral[i] = IsIntegral(schema.fields[i].type);
    }
    SourceProfile sp;
    sp.name = spec.name;
    sp.kind = spec.kind;
    std::vector<FieldStats> stats(schema.fields.size(), FieldStats(options));

    // What the plan asks of this source's columns.
    std::vector<MapCheck> maps;
    std::vector<KeyCheck> keys;
    std::vector<RefCheck> refs;
    std::vector<std::string> key_parents;  // parent entities this source's keys belong to
    for (const Mapping& m : plan.mappings) {
      if (m.source != spec.name) continue;
      if (parents.count(m.entity)) key_parents.push_back(m.entity);
      const Entity* entity = plan.model.Find(m.entity);
      for (const FieldMapping& fm : m.fields) {
        const int col = fm.from.empty() ? -1 : schema.IndexOf(fm.from);
        if (col < 0) continue;
        if (fm.has_value_map || !fm.map_file.empty()) {
          MapCheck& mc = maps.emplace_back();
          mc.column = col;
          for (const auto& [from, to] : fm.value_map) mc.keys.insert(from);
          mc.result.map = "inline";
          if (!fm.map_file.empty()) {
            SLUICE_ASSIGN_OR_RETURN(auto entries,
                                    LoadValueMapFile(fm.map_file, fm.yaml_path + ".map_file"));
            for (const auto& [from, to] : entries) mc.keys.insert(from);
            mc.result.map = std::filesystem::path(fm.map_file).filename().string();
          }
          mc.result.entity = m.entity;
          mc.result.field = fm.target;
          mc.result.column = fm.from;
        }
        const ModelField* field = entity ? entity->Find(fm.target) : nullptr;
        if (field != nullptr && field->type == FieldType::kReference && fm.concat.empty()) {
          RefCheck& rc = refs.emplace_back();
          rc.column = col;
          rc.result = {m.entity, fm.target, field->references, spec.name, 0, 0, {}};
        }
      }
      auto dedup = plan.dedup.find(m.entity);
      if (dedup != plan.dedup.end() && !dedup->second.key_fields.empty()) {
        KeyCheck kc;
        for (const std::string& kf : dedup->second.key_fields) {
          int col = -1;
          for (const FieldMapping& fm : m.fields) {
            if (fm.target == kf && !fm.from.empty()) col = schema.IndexOf(fm.from);
          }
          kc.columns.push_back(col);
        }
        if (std::find(kc.columns.begin(), kc.columns.end(), -1) == kc.columns.end()) {
          DuplicateEstimate& d = dup_by_entity[m.entity];
          d.entity = m.entity;
          d.key_fields = dedup->second.key_fields;
          kc.estimate = &d;
          kc.seen = &dup_seen[m.entity];
          keys.push_back(std::move(kc));
        }
      }
    }

    // Two batches in turn: while a second thread profiles the upper columns
    // of one batch, this thread profiles the lower columns, runs the plan
    // checks and reads the next batch into the other buffer. The records
    // are never cleared: the source overwrites them, reusing their strings
    // (clearing cost a malloc and a free per cell).
    RecordBatch batches[2];
    std::vector<v1::Fate> rejects;
    std::string scratch, key;
    std::vector<uint64_t> key_hashes;  // per record of the batch; 0: a key part is empty
    bool more = true;
    uint64_t rows_read = 0;
    // Reads the next batch into `b`; `*take`: its records to profile (0 for
    // a batch of rejects only); `more` turns false at the end or the limit.
    auto fetch = [&](RecordBatch* b, size_t* take) -> Status {
      *take = 0;
      if (options.max_rows != 0 && rows_read >= options.max_rows) more = false;
      if (!more) return Status::Ok();
      rejects.clear();
      SLUICE_ASSIGN_OR_RETURN(more, source->Next(4096, b, &rejects));
      if (!more) return Status::Ok();  // nothing read: `b` holds older records
      sp.rejected_rows += rejects.size();
      *take = b->records.size();
      if (options.max_rows != 0) *take = std::min<uint64_t>(*take, options.max_rows - rows_read);
      rows_read += *take;
      return Status::Ok();
    };
    auto profile_columns = [&](const RecordBatch& batch, size_t take, size_t begin, size_t end) {
      std::string cell;
      for (size_t k = 0; k < take; ++k) {
        const Record& r = batch.records[k];
        for (size_t i = begin; i < end; ++i) {
          std::string_view v = CellText(schema, integral, r, i, &cell);
          if (v.empty()) {
            stats[i].AddEmpty();
          } else {
            stats[i].Add(v);
          }
        }
      }
    };
    auto check_rows = [&](const RecordBatch& batch, size_t take) {
      for (KeyCheck& kc : keys) {
        // Hashes first, prefetching each one's slot, then the inserts: the
        // key set is far bigger than the caches (and the TLB), and a probe
        // was a miss per record.
        kc.seen->Reserve(take);
        key_hashes.assign(take, 0);
        for (size_t k = 0; k < take; ++k) {
          const Record& r = batch.records[k];
          key.clear();
          bool missing = false;
          for (int col : kc.columns) {
            std::string_view v = CellText(schema, integral, r, col, &scratch);
            missing = missing || v.empty();
            key.append(v);
            key.push_back('\x1f');
          }
          if (missing) {
            ++kc.estimate->missing_key;
            continue;
          }
          key_hashes[k] = Hash64(key);
          if (key_hashes[k] == 0) key_hashes[k] = 1;  // the set stores 0 as 1 too
          kc.seen->Prefetch(key_hashes[k]);
          ++kc.estimate->records;
        }
        for (size_t k = 0; k < take; ++k) {
          if (key_hashes[k] != 0 && !kc.seen->Insert(key_hashes[k])) ++kc.estimate->duplicates;
        }
      }
      for (size_t k = 0; k < take; ++k) {
        const Record& r = batch.records[k];
        ++sp.rows;
        for (MapCheck& mc : maps) {
          std::string_view v = CellText(schema, integral, r, mc.column, &scratch);
          if (v.empty() || mc.keys.count(v)) continue;
          ++mc.result.total;
          if (auto it = mc.unmapped.find(v); it != mc.unmapped.end()) {
            ++it->second;
          } else {
            mc.unmapped.emplace(std::string(v), 1);
          }
        }
        for (RefCheck& rc : refs) {
          std::string_view v = CellText(schema, integral, r, rc.column, &scratch);
          if (v.empty()) continue;
          ++rc.result.references;
          if (auto it = rc.values.find(v); it != rc.values.end()) {
            ++it->second;
          } else {
            rc.values.emplace(std::string(v), 1);
          }
        }
        for (const std::string& p : key_parents) parent_keys[p].Insert(Hash64(r.key));
      }
    };
    // Columns [0, split) here, [split, n) on the second thread; `split`
    // moves a column at a time towards the side that waits (this side also
    // reads and checks). Columns are independent: the split never changes
    // the figures.
    const size_t n = stats.size();
    size_t split = n >= 4 ? n / 2 : n;
    size_t cur = 0, take = 0;
    SLUICE_RETURN_IF_ERROR(fetch(&batches[cur], &take));
    while (take > 0 || more) {
      if (take == 0) {  // a batch of rejects only
        SLUICE_RETURN_IF_ERROR(fetch(&batches[cur], &take));
        continue;
      }
      const RecordBatch& batch = batches[cur];
      using Clock = std::chrono::steady_clock;
      std::future<double> second;
      const bool parallel = split < n && take > 256;
      if (parallel) {
        second = std::async(std::launch::async, [&, take, split] {
          const auto t0 = Clock::now();
          profile_columns(batch, take, split, n);
          return std::chrono::duration<double>(Clock::now() - t0).count();
        });
      } else {
        profile_columns(batch, take, split, n);
      }
      const auto t0 = Clock::now();
      profile_columns(batch, take, 0, split);
      check_rows(batch, take);
      size_t next_take = 0;
      const Status read = fetch(&batches[1 - cur], &next_take);
      const double here = std::chrono::duration<double>(Clock::now() - t0).count();
      if (parallel) {
        const double there = second.get();  // before any return: it reads `batch`
        if (there > 1.1 * here && split + 1 < n) ++split;
        if (here > 1.1 * there && split > 1) --split;
      }
      SLUICE_RETURN_IF_ERROR(read);
      cur = 1 - cur;
      take = next_take;
    }
    for (size_t i = 0; i < stats.size(); ++i) {
      sp.fields.push_back(stats[i].Finish(schema.fields[i].name));
    }
    for (MapCheck& mc : maps) {
      mc.result.values = FieldStats::Top(mc.unmapped, std::max<size_t>(options.top_values, 50));
      sp.unmapped.push_back(std::move(mc.result));
    }
    for (RefCheck& rc : refs) all_refs.push_back(std::move(rc));
    out.rows += sp.rows;
    out.sources.push_back(std::move(sp));
  }

  for (auto& [entity, d] : dup_by_entity) out.duplicates.push_back(d);
  for (RefCheck& rc : all_refs) {
    const auto& keys = parent_keys[rc.result.parent];
    std::vector<std::string> orphan_values;
    for (const auto& [value, count] : rc.values) {
      if (keys.Contains(Hash64(value))) continue;
      rc.result.orphans += count;
      orphan_values.push_back(value);
    }
    std::sort(orphan_values.begin(), orphan_values.end());
    if (orphan_values.size() > 10) orphan_values.resize(10);
    rc.result.samples = std::move(orphan_values);
    out.orphans.push_back(std::move(rc.result));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace sluice
