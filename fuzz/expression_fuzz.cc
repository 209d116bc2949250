// Validation expressions: any text compiled against an entity with a field
// of every type, and evaluated over a record of NULLs and one of values.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/plan/expression.h"
#include "fuzz/fuzz_input.h"

namespace {

sluice::Entity MakeEntity() {
  using sluice::FieldType;
  sluice::Entity e;
  e.name = "hcp";
  auto add = [&](const char* name, FieldType type, int precision = 0, int scale = 0) {
    sluice::ModelField f;
    f.name = name;
    f.type = type;
    f.precision = precision;
    f.scale = scale;
    e.fields.push_back(f);
  };
  add("name", FieldType::kString);
  add("beds", FieldType::kInt);
  add("revenue", FieldType::kDecimal, 12, 2);
  add("born", FieldType::kDate);
  add("updated", FieldType::kTimestamp);
  add("active", FieldType::kBool);
  add("kind", FieldType::kEnum);
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  static const Entity entity = MakeEntity();
  auto e = Expression::Compile(std::string_view(reinterpret_cast<const char*>(data), size), entity);
  if (!e.ok()) return 0;
  std::vector<Value> nulls(entity.fields.size());
  std::vector<Value> values = {Value::Str(" Dr Müller "), Value::Int(12),    Value::Int(123456),
                               Value::Int(-3650),         Value::Int(86400), Value::Int(1),
                               Value::Str("HOSPITAL")};
  (void)e->Evaluate(nulls, nullptr, 19000);
  (void)e->Evaluate(values, nullptr, 19000);
  std::vector<int> index = {6, 5, 4, 3, 2, 1, 0};
  (void)e->Evaluate(values, &index, 19000);
  return 0;
}
