#include "transformer/reference_data.h"

#include <memory>
#include <set>

#include "common/connectors/connector.h"

namespace sluice {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Calls `fn(schema, record)` for every record of the file; the first
// rejected row (malformed line, empty key) is an error.
template <typename Fn>
Status ReadAll(const SourceSpec& spec, Fn fn) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, OpenSource(spec));
  RecordBatch batch;
  std::vector<v1::Fate> rejects;
  while (true) {
    batch.records.clear();
    rejects.clear();
    SLUICE_ASSIGN_OR_RETURN(bool more, source->Next(4096, &batch, &rejects));
    if (!rejects.empty()) {
      const v1::Fate& f = rejects.front();
      return Status::InvalidArgument(spec.yaml_path + ": " + spec.path + " line " +
                                     std::to_string(f.line()) + ": " + f.reason());
    }
    for (const Record& r : batch.records) SLUICE_RETURN_IF_ERROR(fn(source->schema(), r));
    if (!more) return Status::Ok();
  }
}

std::string Text(const Schema& schema, const Record& r, int index) {
  if (index < 0 || static_cast<size_t>(index) >= r.values.size() || r.values[index].is_null) {
    return "";
  }
  return FormatValue(schema.fields[index], r.values[index]).value_or("");
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> LoadValueMapFile(
    const std::string& path, const std::string& yaml_path) {
  SourceSpec spec;
  spec.name = "map_file";
  spec.kind = "csv";
  spec.path = path;
  spec.yaml_path = yaml_path;
  spec.options["key"] = "from";
  std::vector<std::pair<std::string, std::string>> entries;
  std::set<std::string> seen;
  int to = -1;
  Status st = ReadAll(spec, [&](const Schema& schema, const Record& r) -> Status {
    if (to < 0) to = schema.IndexOf("to");
    if (to < 0) return Status::InvalidArgument(yaml_path + ": " + path + " has no column 'to'");
    if (!seen.insert(r.key).second) {
      return Status::InvalidArgument(yaml_path + ": " + path + " line " + std::to_string(r.line) +
                                     ": value '" + r.key + "' mapped twice");
    }
    entries.emplace_back(r.key, Text(schema, r, to));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return entries;
}

Result<ReferenceDataset> ReferenceDataset::Load(const FieldMapping::Enrichment& e,
                                                const std::string& yaml_path) {
  SourceSpec spec;
  spec.name = "enrich";
  spec.path = e.file;
  spec.yaml_path = yaml_path;
  const bool sqlite = !e.table.empty() || EndsWith(e.file, ".db") || EndsWith(e.file, ".sqlite");
  spec.kind = sqlite ? "sqlite" : "csv";
  if (sqlite) spec.options["table"] = e.table;
  spec.options["key"] = e.key;
  ReferenceDataset data;
  int column = -1;
  Status st = ReadAll(spec, [&](const Schema& schema, const Record& r) -> Status {
    if (column < 0) column = schema.IndexOf(e.column);
    if (column < 0) {
      return Status::InvalidArgument(yaml_path + ".column: " + e.file + " has no column '" +
                                     e.column + "'");
    }
    std::string value = Text(schema, r, column);
    if (!value.empty()) data.values_.emplace(r.key, std::move(value));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return data;
}

}  // namespace sluice
