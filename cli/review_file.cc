#include "cli/review_file.h"

#include <nlohmann/json.hpp>

#include "common/connectors/csv/csv_source.h"
#include "common/connectors/text/json_text.h"

namespace sluice::cli {

Result<std::vector<ReviewCsvRow>> ReadReviewCsv(const std::string& path) {
  SourceSpec spec;
  spec.name = "review";
  spec.kind = "csv";
  spec.path = path;
  spec.options["key"] = "key";
  spec.yaml_path = path;
  SLUICE_ASSIGN_OR_RETURN(auto source, OpenCsvSource(spec));
  const Schema& schema = source->schema();
  for (const char* required : {"kind", "entity", "source", "key", "decision", "steward"}) {
    if (schema.IndexOf(required) < 0) {
      return Status::InvalidArgument(path + ": no column '" + required +
                                     "' (write the file with `sluice review export`)");
    }
  }
  std::vector<ReviewCsvRow> rows;
  std::string problems;
  for (;;) {
    RecordBatch batch;
    std::vector<v1::Fate> rejects;
    SLUICE_ASSIGN_OR_RETURN(bool more, source->Next(4096, &batch, &rejects));
    for (const auto& f : rejects) {
      problems += path + ":" + std::to_string(f.line()) + ": " + f.reason() + "\n";
    }
    if (!more) break;
    for (const Record& r : batch.records) {
      ReviewCsvRow row;
      row.line = r.line;
      for (size_t i = 0; i < schema.fields.size() && i < r.values.size(); ++i) {
        row.cells[schema.fields[i].name] = r.values[i].is_null ? "" : r.values[i].s;
      }
      rows.push_back(std::move(row));
    }
  }
  if (!problems.empty()) {
    problems.pop_back();
    return Status::InvalidArgument(problems);
  }
  return rows;
}

namespace {

// Adds the corrections of a record row to `d`; returns problems as text.
std::string ReadCorrections(const ReviewCsvRow& row, const Entity& entity, v1::RecordDecision* d) {
  std::string problems;
  auto add = [&](const std::string& field, const nlohmann::json& value) {
    const ModelField* mf = entity.Find(field);
    if (mf == nullptr) {
      problems += "entity " + entity.name + " has no field '" + field + "'; ";
      return;
    }
    auto* c = d->add_corrections();
    c->set_field(field);
    if (value.is_null()) {
      c->set_null(true);
      return;
    }
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    FieldSpec spec{mf->name, mf->type, mf->precision, mf->scale};
    auto parsed = ParseCanonical(spec, text);
    if (!parsed.ok()) {
      problems +=
          "corrected value '" + text + "' of " + field + ": " + parsed.status().message() + "; ";
      return;
    }
    c->set_value(text);
  };
  if (!row["corrected_value"].empty()) {
    if (row["field"].empty()) {
      problems += "corrected_value without a field; ";
    } else {
      add(row["field"], row["corrected_value"]);
    }
  }
  if (!row["corrections"].empty()) {
    Result<nlohmann::json> j = ParseJson(row["corrections"]);
    if (!j.ok()) {
      problems += "corrections: " + j.status().message() + "; ";
    } else if (!j->is_object()) {
      problems += "corrections must be a JSON object like {\"field\": \"value\"}; ";
    } else {
      for (const auto& [field, value] : j->items()) add(field, value);
    }
  }
  return problems;
}

}  // namespace

Result<ReviewFileDecisions> ReadReviewDecisions(const Plan& plan, const std::string& csv_path,
                                                int64_t now_ms) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<ReviewCsvRow> rows, ReadReviewCsv(csv_path));
  ReviewFileDecisions summary;
  std::vector<v1::RecordDecision>& records = summary.records;
  std::vector<v1::PairDecision>& pairs = summary.pairs;
  std::string problems;
  for (const ReviewCsvRow& row : rows) {
    std::string where = csv_path + ":" + std::to_string(row.line) + ": ";
    const std::string& kind = row["kind"];
    const std::string& decision = row["decision"];
    const Entity* entity = plan.model.Find(row["entity"]);
    if (entity == nullptr) {
      problems += where + "unknown entity '" + row["entity"] + "'\n";
      continue;
    }
    if (row["source"].empty() || row["key"].empty()) {
      problems += where + "source and key are required\n";
      continue;
    }
    if (kind == "record") {
      v1::RecordDecision d;
      d.set_entity(entity->name);
      d.set_source(row["source"]);
      d.set_key(row["key"]);
      std::string bad = ReadCorrections(row, *entity, &d);
      if (!bad.empty()) {
        bad.resize(bad.size() - 2);
        problems += where + bad + "\n";
        continue;
      }
      if (decision.empty() && d.corrections().empty()) {
        ++summary.open;
        continue;
      }
      if (!decision.empty() && decision != "load" && decision != "reject") {
        problems += where + "decision '" + decision + "' for a record must be load or reject\n";
        continue;
      }
      d.set_decision(decision.empty() ? "load" : decision);
      d.set_steward(row["steward"]);
      d.set_note(row["note"]);
      d.set_decided_ms(now_ms);
      if (d.steward().empty()) {
        problems += where + "a decided row needs the steward's name\n";
        continue;
      }
      records.push_back(std::move(d));
    } else if (kind == "pair" || kind == "cluster") {
      if (decision.empty()) {
        ++summary.open;
        continue;
      }
      if (decision != "match" && decision != "distinct") {
        problems +=
            where + "decision '" + decision + "' for a " + kind + " must be match or distinct\n";
        continue;
      }
      if (row["other_source"].empty() || row["other_key"].empty()) {
        problems += where + "a " + kind + " decision needs other_source and other_key\n";
        continue;
      }
      v1::PairDecision d;
      d.set_entity(entity->name);
      d.set_source(row["source"]);
      d.set_key(row["key"]);
      d.set_other_source(row["other_source"]);
      d.set_other_key(row["other_key"]);
      d.set_decision(decision);
      d.set_steward(row["steward"]);
      d.set_note(row["note"]);
      d.set_decided_ms(now_ms);
      if (d.steward().empty()) {
        problems += where + "a decided row needs the steward's name\n";
        continue;
      }
      pairs.push_back(std::move(d));
    } else {
      problems += where + "unknown kind '" + kind + "' (expected record, pair or cluster)\n";
    }
  }
  if (!problems.empty()) {
    problems.pop_back();
    return Status::InvalidArgument(problems);
  }
  return summary;
}

}  // namespace sluice::cli
