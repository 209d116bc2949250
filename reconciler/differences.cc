#include "reconciler/differences.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace sluice {

bool DifferenceLog::Later::operator()(const FieldDifference& a, const FieldDifference& b) const {
  return std::tie(a.source, a.key, a.failure, a.field) <
         std::tie(b.source, b.key, b.failure, b.field);
}

void DifferenceLog::Add(FieldDifference d) {
  ++count_;
  ++counts_[d.failure];
  if (sink_) sink_(d);
  if (kept_.size() == kMaxReportedDifferences) {
    if (!Later()(d, kept_.top())) return;
    kept_.pop();
  }
  kept_.push(std::move(d));
}

std::vector<FieldDifference> DifferenceLog::Sample() const {
  auto heap = kept_;
  std::vector<FieldDifference> out;
  out.reserve(heap.size());
  while (!heap.empty()) {
    out.push_back(heap.top());
    heap.pop();
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string ShowValue(const FieldSpec& field, const Value& value) {
  return FormatValue(field, value).value_or("NULL");
}

std::string ShowHash(uint64_t hash) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

std::string ShowRecord(const Schema& schema, const std::vector<Value>& values) {
  std::string out;
  for (size_t i = 0; i < schema.fields.size() && i < values.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += schema.fields[i].name + "=" + ShowValue(schema.fields[i], values[i]);
  }
  return out;
}

void AddRecordDiffs(const Schema& schema, const std::string& source, const std::string& key,
                    const std::vector<Value>& expected, const std::vector<Value>& actual,
                    DifferenceLog* log) {
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const Value none;
    const Value& want = i < expected.size() ? expected[i] : none;
    const Value& got = i < actual.size() ? actual[i] : none;
    if (want == got) continue;
    const FieldSpec& f = schema.fields[i];
    log->Add({source, key, kRecordDiff, f.name, ShowValue(f, want), ShowValue(f, got)});
  }
}

}  // namespace sluice
