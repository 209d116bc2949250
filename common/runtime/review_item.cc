#include "common/runtime/review_item.h"

#include <nlohmann/json.hpp>

namespace sluice {

std::string RecordJson(const Schema& schema, const Record& record) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t f = 0; f < schema.fields.size() && f < record.values.size(); ++f) {
    std::optional<std::string> text = FormatValue(schema.fields[f], record.values[f]);
    j[schema.fields[f].name] = text ? nlohmann::json(*text) : nlohmann::json(nullptr);
  }
  return j.dump();
}

v1::ReviewItem RecordReviewItem(const std::string& entity, const v1::Fate& fate,
                                std::string record_json) {
  v1::ReviewItem item;
  item.set_kind("record");
  item.set_entity(entity);
  item.set_source(fate.source());
  item.set_key(fate.key());
  item.set_stage(fate.stage());
  item.set_rule(fate.rule());
  item.set_field(fate.field());
  item.set_value(fate.value());
  item.set_reasons(fate.reason());
  item.set_suggestion(fate.suggestion());
  item.set_record_json(std::move(record_json));
  return item;
}

}  // namespace sluice
