// The entity the SQLite and PostgreSQL target tests load: one field of each
// kind a target stores (text, date, decimal, boolean, integer).
#ifndef SLUICE_COMMON_CONNECTORS_TARGET_TESTING_H_
#define SLUICE_COMMON_CONNECTORS_TARGET_TESTING_H_

#include <string>

#include "common/plan/plan.h"

namespace sluice::target_testing {

inline ModelField Field(const std::string& name, FieldType type, int precision = 0, int scale = 0) {
  ModelField f;
  f.name = name;
  f.type = type;
  f.precision = precision;
  f.scale = scale;
  return f;
}

inline Entity Hcp() {
  Entity e;
  e.name = "hcp";
  e.fields = {Field("name", FieldType::kString), Field("dob", FieldType::kDate),
              Field("balance", FieldType::kDecimal, 12, 2), Field("active", FieldType::kBool),
              Field("visits", FieldType::kInt)};
  return e;
}

}  // namespace sluice::target_testing

#endif  // SLUICE_COMMON_CONNECTORS_TARGET_TESTING_H_
