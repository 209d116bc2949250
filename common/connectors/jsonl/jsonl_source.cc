// JSON Lines source. The columns are the union of the leaf paths of every
// object in the file, in order of first appearance, found by one pass over
// the file when the source opens: the raw schema must be known before the
// first batch, and a path missing from one line is NULL there.

#include "common/connectors/jsonl/jsonl_source.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/connectors/text/text_decoder.h"

namespace sluice {
namespace {

using Json = nlohmann::json;

// Calls fn(path, leaf) for every leaf of `obj`, depth first in key order.
template <typename Fn>
void ForEachLeaf(const Json& obj, const std::string& prefix, const Fn& fn) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object() && !it->empty()) {
      ForEachLeaf(*it, path, fn);
    } else {
      fn(path, *it);
    }
  }
}

// A line without its trailing "\r" and surrounding blanks: blank lines are
// skipped, not rejected.
bool IsBlank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

// Cuts `text` to at most 200 bytes on a UTF-8 boundary, for a reject's value.
std::string Cut(const std::string& text) {
  if (text.size() <= 200) return text;
  size_t cut = 200;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

class JsonlSource : public Source {
 public:
  JsonlSource(SourceSpec spec, TextDecoder decoder)
      : spec_(std::move(spec)), decoder_(std::move(decoder)) {}

  Status Init() {
    in_.open(spec_.path, std::ios::binary);
    if (!in_) return Status::IoError(spec_.yaml_path + ".path: cannot open " + spec_.path);
    std::map<std::string, int> index;
    std::string line;
    while (std::getline(in_, line)) {
      if (IsBlank(line) || !DecodeLine(decoder_, &line, 0).empty()) continue;
      Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) continue;  // rejected when read
      ForEachLeaf(j, "", [&](const std::string& path, const Json&) {
        if (index.emplace(path, static_cast<int>(schema_.fields.size())).second) {
          schema_.fields.push_back({path, FieldType::kString, 0, 0});
        }
      });
    }
    const std::string key = spec_.Option("key");
    auto it = index.find(key);
    if (it == index.end()) {
      return Status::InvalidArgument(spec_.yaml_path + ".key: field '" + key +
                                     "' appears in no line of " + spec_.path);
    }
    key_index_ = it->second;
    index_ = std::move(index);
    return Rewind(0, 0);
  }

  const Schema& schema() const override { return schema_; }

  Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) override {
    if (max_rows == 0) return false;
    const uint64_t begin = offset_;
    const uint64_t first_line = line_ + 1;
    size_t n_records = 0;
    size_t rows = 0;
    std::string line;
    std::vector<std::optional<std::string>> cells(schema_.fields.size());
    while (rows < max_rows && std::getline(in_, line)) {
      const bool had_newline = !in_.eof();
      const uint64_t line_begin = offset_;
      offset_ += line.size() + (had_newline ? 1 : 0);
      std::string error = DecodeLine(decoder_, &line, line_begin);
      const uint64_t number = ++line_;
      if (IsBlank(line)) continue;
      ++rows;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      Json j;
      try {
        if (error.empty()) j = Json::parse(line);
        if (error.empty() && !j.is_object()) error = "not a JSON object";
      } catch (const Json::exception& e) {
        error = std::string("invalid JSON: ") + e.what();
      }
      std::fill(cells.begin(), cells.end(), std::nullopt);
      if (error.empty()) {
        ForEachLeaf(j, "", [&](const std::string& path, const Json& leaf) {
          auto it = index_.find(path);
          if (it == index_.end() || leaf.is_null())
            return;  // not in the first pass: unchanged file?
          cells[it->second] = leaf.is_string() ? leaf.get<std::string>() : leaf.dump();
        });
        if (!cells[key_index_] || cells[key_index_]->empty()) error = "missing key";
      }
      if (!error.empty()) {
        v1::Fate fate;
        fate.set_kind(v1::FATE_REJECTED);
        fate.set_source(spec_.name);
        fate.set_key("line:" + std::to_string(number));
        fate.set_stage("extract");
        fate.set_rule(error == "missing key" ? "missing_key" : "malformed_row");
        if (error == "missing key") fate.set_field(schema_.fields[key_index_].name);
        fate.set_reason(error);
        fate.set_line(number);
        fate.set_value(Cut(line));
        rejects->push_back(std::move(fate));
        continue;
      }
      AppendTextRecord(
          out, &n_records, schema_, spec_.name, number, key_index_,
          [&](int c) { return !cells[c].has_value(); },
          [&](int c) -> const std::string& { return *cells[c]; });
    }
    if (rows == 0) return false;
    out->records.resize(n_records);
    out->schema = schema_;
    out->range.set_begin_offset(begin);
    out->range.set_end_offset(offset_);
    out->range.set_first_line(first_line);
    return true;
  }

  // The line number is recounted from the start of the file: a resume may
  // only know the offset.
  Status Seek(const v1::BatchRange& range) override {
    in_.clear();
    in_.seekg(0);
    uint64_t lines = 0;
    std::string line;
    uint64_t offset = 0;
    while (offset < range.begin_offset() && std::getline(in_, line)) {
      offset += line.size() + (in_.eof() ? 0 : 1);
      ++lines;
    }
    if (offset != range.begin_offset()) {
      return Status::InvalidArgument(spec_.yaml_path + ": offset " +
                                     std::to_string(range.begin_offset()) +
                                     " is not the start of a line of " + spec_.path);
    }
    return Rewind(offset, lines);
  }

 private:
  Status Rewind(uint64_t offset, uint64_t lines) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    if (!in_) return Status::IoError(spec_.yaml_path + ": cannot seek in " + spec_.path);
    offset_ = offset;
    line_ = lines;
    return Status::Ok();
  }

  SourceSpec spec_;
  TextDecoder decoder_;  // the `encoding:` of the file
  std::ifstream in_;
  Schema schema_;
  std::map<std::string, int> index_;  // column path -> index
  int key_index_ = -1;
  uint64_t offset_ = 0;  // byte offset of the next line
  uint64_t line_ = 0;    // lines read before offset_
};

}  // namespace

Result<std::unique_ptr<Source>> OpenJsonlSource(const SourceSpec& spec) {
  if (spec.Option("key").empty()) {
    return Status::InvalidArgument(spec.yaml_path +
                                   ".key: required (the key field of the jsonl source)");
  }
  auto decoder = TextDecoder::Create(spec.Option("encoding"));
  if (decoder.ok() && !decoder->ascii_lines()) {
    decoder = Status::InvalidArgument(
        "a JSON Lines file needs an encoding whose line break is "
        "the byte 0x0A, not '" +
        decoder->name() + "'");
  }
  if (!decoder.ok()) return decoder.status().WithContext(spec.yaml_path + ".encoding");
  auto source = std::make_unique<JsonlSource>(spec, std::move(decoder).value());
  SLUICE_RETURN_IF_ERROR(source->Init());
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace sluice
