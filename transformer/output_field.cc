// Field mappings compiled against the source's schema (output_field.h).
#include "transformer/output_field.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "common/core/nearest.h"

namespace sluice {
namespace {

Column ResolveColumn(const Schema& source_schema, const std::string& name, const std::string& path,
                     std::vector<std::string>* problems) {
  Column c;
  c.index = source_schema.IndexOf(name);
  if (c.index < 0) {
    std::vector<std::string> names;
    for (const auto& f : source_schema.fields) names.push_back(f.name);
    std::optional<std::string> near = NearestValue(name, names);
    problems->push_back(path + ": source has no column '" + name + "'" +
                        (near ? " (did you mean '" + *near + "'?)" : ""));
  } else {
    c.integral = IsIntegral(source_schema.fields[c.index].type);
  }
  return c;
}

// Compiles the steps beyond casting of `fm` into `out`.
void BuildTextSteps(const FieldMapping& fm, const Schema& source_schema, const std::string& path,
                    std::map<std::string, std::shared_ptr<const ReferenceDataset>>* datasets,
                    OutputField* out, std::vector<std::string>* problems) {
  for (size_t i = 0; i < fm.concat.size(); ++i) {
    out->concat.push_back(ResolveColumn(source_schema, fm.concat[i],
                                        path + ".concat[" + std::to_string(i) + "]", problems));
  }
  out->separator = fm.separator;
  out->part = fm.part;
  if (fm.split == "name") out->split = SplitKind::kName;
  if (fm.split == "address") out->split = SplitKind::kAddress;
  if (fm.split == "separator") {
    out->split = SplitKind::kSeparator;
    out->piece = static_cast<size_t>(std::stoul(fm.part.empty() ? "0" : fm.part));
  }
  if (!fm.extract.empty()) {
    auto x = RegexExtractor::Create(fm.extract, fm.extract_group);
    if (x.ok()) {
      out->extract = std::move(x).value();
    } else {
      problems->push_back(path + ".extract: " + x.status().message());
    }
  }
  out->normalize = !fm.normalize.empty();
  out->match_key = fm.match_key;
  if (out->normalize || out->match_key) {
    auto f = UnicodeFolder::Create(fm.normalize, fm.match_key);
    if (f.ok()) {
      out->folder = std::move(f).value();
    } else {
      problems->push_back(path + ": " + f.status().message());
    }
  }
  out->email = fm.email;
  out->phone = fm.phone;
  out->phone_strict = fm.phone_strict;
  out->on_error = fm.on_error == "null"     ? OnError::kNull
                  : fm.on_error == "review" ? OnError::kReview
                                            : OnError::kReject;
  if (fm.phone) {
    out->region = fm.region.empty() ? fm.source_region : fm.region;
    if (!out->region.empty() && !PhoneFormatter::KnownRegion(out->region)) {
      problems->push_back(path + ".region: unknown region '" + out->region + "'");
    }
    if (!fm.region_from.empty()) {
      out->region_from =
          ResolveColumn(source_schema, fm.region_from, path + ".region_from", problems);
      out->region_column = fm.region_from;
    }
  }
  if (fm.enrich) {
    out->enrich_by = ResolveColumn(source_schema, fm.enrich->by, path + ".enrich.by", problems);
    // Fields enriched from the same dataset column share one load.
    const std::string id = fm.enrich->file + '\x1f' + fm.enrich->table + '\x1f' + fm.enrich->key +
                           '\x1f' + fm.enrich->column;
    auto it = datasets->find(id);
    if (it == datasets->end()) {
      auto data = ReferenceDataset::Load(*fm.enrich, path + ".enrich");
      if (!data.ok()) {
        problems->push_back(data.status().message());
      } else {
        it = datasets->emplace(id, std::make_shared<ReferenceDataset>(std::move(data).value()))
                 .first;
      }
    }
    if (it != datasets->end()) out->enrich = it->second;
  }
  out->has_text_steps = !out->concat.empty() || out->split != SplitKind::kNone || out->extract ||
                        out->normalize || out->match_key || out->email || out->phone || out->enrich;
}

}  // namespace

Result<std::vector<OutputField>> BuildOutputFields(const Entity& entity, const Mapping& mapping,
                                                   const Schema& source_schema) {
  std::vector<std::string> problems;
  std::vector<OutputField> fields(entity.fields.size());
  std::set<std::string> seen;
  std::map<std::string, std::shared_ptr<const ReferenceDataset>> datasets;
  for (const FieldMapping& fm : mapping.fields) {
    const std::string path = mapping.yaml_path + ".fields." + fm.target;
    if (!seen.insert(fm.target).second) {
      problems.push_back(path + ": field mapped more than once");
      continue;
    }
    int target = -1;
    for (size_t i = 0; i < entity.fields.size(); ++i) {
      if (entity.fields[i].name == fm.target) target = static_cast<int>(i);
    }
    if (target < 0) {
      problems.push_back(path + ": entity " + entity.name + " has no field '" + fm.target + "'");
      continue;
    }
    OutputField& out = fields[target];
    if (!fm.from.empty()) {
      const size_t before = problems.size();
      out.from = ResolveColumn(source_schema, fm.from, path + ".from", &problems);
      if (problems.size() != before) continue;
    }
    BuildTextSteps(fm, source_schema, path, &datasets, &out, &problems);
    Result<FieldCaster> caster = FieldCaster::Create(entity.fields[target], fm, mapping.source);
    if (!caster.ok()) {
      problems.push_back(caster.status().message());
      continue;
    }
    out.caster = std::move(caster).value();
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return Status::InvalidArgument(message);
  }
  return fields;
}

}  // namespace sluice
