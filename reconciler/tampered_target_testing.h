// For the reconciler's tests (issue 17): a target in memory whose rows a
// test edits, deletes and adds to, and a three-doctor wave loaded into it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/core/value.h"
#include "reconciler/reconcile.h"

namespace sluice::testing_tampered {

// A target in memory: `rows` through their cross-reference entries,
// `strays` in the table with no entry.
class TamperedTarget : public Target {
 public:
  Status Prepare(const Entity&) override { return Status::Ok(); }
  Result<LoadOutcome> Load(const std::string&, const Entity&, const RecordBatch&) override {
    return Status::Unavailable("read-only");
  }
  Status ScanRows(const Entity&, const std::function<void(const TargetRow&)>& fn) override {
    // In (source, key) order, as the real targets hand them over.
    std::vector<TargetRow> ordered = rows;
    std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
      return a.source != b.source ? a.source < b.source : a.key < b.key;
    });
    for (const TargetRow& row : ordered) fn(row);
    return Status::Ok();
  }
  Result<uint64_t> CountRows(const Entity&) override {
    uint64_t n = strays.size();
    for (const TargetRow& row : rows) n += row.values.empty() ? 0 : 1;
    return n;
  }
  Status ScanRowsWithoutEntry(const Entity&,
                              const std::function<void(const TargetRow&)>& fn) override {
    for (const TargetRow& row : strays) fn(row);
    return Status::Ok();
  }
  std::vector<TargetRow> rows, strays;
};

inline Entity Hcp() {
  Entity e;
  e.name = "hcp";
  e.fields.resize(3);
  e.fields[0].name = "name";
  e.fields[1].name = "country";
  e.fields[2].name = "revenue";
  e.fields[2].type = FieldType::kDecimal;
  e.fields[2].precision = 12;
  e.fields[2].scale = 2;
  return e;
}

inline std::vector<Value> Values(const std::string& name, const std::string& country,
                                 std::optional<int64_t> revenue) {
  return {Value::Str(name), Value::Str(country), revenue ? Value::Int(*revenue) : Value::Null()};
}

class TamperedWaveTest : public testing::Test {
 protected:
  void SetUp() override {
    Load("c1", Values("Ann", "FR", 125050), 101);
    Load("c2", Values("Bob", "FR", std::nullopt), 102);
    Load("c3", Values("Cy", "DE", 1000), 103);
    input_.decimal_sums["revenue"] = 126050;
  }
  void Load(const std::string& key, std::vector<Value> values, int64_t id) {
    const Schema schema = Hcp().ToSchema();
    TargetRow row{"crm", key, id, ContentHash(schema, values), values, false};
    target_.rows.push_back(row);
    std::string image;
    EncodeCanonical(schema, values, &image);
    input_.loaded.push_back({"crm", key, row.recorded_hash, id, image});
  }

  ReconcileInput input_;
  TamperedTarget target_;
};

}  // namespace sluice::testing_tampered
