// JSON Lines source. The columns are the union of the leaf paths of every
// object in the file, in order of first appearance, found by one pass over
// the file when the source opens: the raw schema must be known before the
// first batch, and a path missing from one line is NULL there.
//
// Hostile lines are rejected, never trusted: a line is held in memory up to
// limits::kMaxLineBytes, parsed only when nested at most kMaxJsonDepth deep,
// and a rejected line travels as valid UTF-8 (docs/limits.md).

#include "common/connectors/jsonl/jsonl_source.h"

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/connectors/text/json_text.h"
#include "common/connectors/text/text_decoder.h"
#include "common/connectors/text/utf8_text.h"
#include "common/core/limits.h"

namespace sluice {
namespace {

using Json = nlohmann::json;

// Reads a file line by line, holding at most limits::kMaxLineBytes of a line:
// the rest of a longer line is skipped, and the line reported as too long.
class LineReader {
 public:
  // `line_end`: the byte ending a line ('\n', or NL 0x15 / LF 0x25 in an
  // EBCDIC file).
  bool Open(const std::string& path, char line_end) {
    line_end_ = line_end;
    in_.open(path, std::ios::binary);
    return static_cast<bool>(in_);
  }
  // Positions the reader at byte `offset`.
  bool SeekTo(uint64_t offset) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    pos_ = end_ = 0;
    return static_cast<bool>(in_);
  }
  // The next line, without its line end, in `*line` (cut at kMaxLineBytes, then
  // `*too_long`); `*consumed`: its bytes in the file, newline included.
  // False at the end of the file.
  bool Next(std::string* line, uint64_t* consumed, bool* too_long) {
    line->clear();
    *consumed = 0;
    *too_long = false;
    bool any = false;
    for (;;) {
      if (pos_ == end_ && !Fill()) return any;
      any = true;
      const char* at = buf_.get() + pos_;
      const size_t n = end_ - pos_;
      const void* nl = std::memchr(at, line_end_, n);
      const size_t take =
          nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - at) : n;
      const size_t room = limits::kMaxLineBytes - line->size();
      if (take > room) *too_long = true;
      line->append(at, std::min(take, room));
      *consumed += take;
      pos_ += take;
      if (nl != nullptr) {
        ++pos_;
        ++*consumed;
        return true;
      }
    }
  }

 private:
  bool Fill() {
    if (!in_) return false;
    in_.read(buf_.get(), static_cast<std::streamsize>(kBufferBytes));
    pos_ = 0;
    end_ = static_cast<size_t>(in_.gcount());
    return end_ > 0;
  }

  std::ifstream in_;
  char line_end_ = '\n';
  static constexpr size_t kBufferBytes = 1 << 16;
  std::unique_ptr<char[]> buf_{new char[kBufferBytes]};  // not zeroed: read into
  size_t pos_ = 0;
  size_t end_ = 0;
};

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

class JsonlSource : public Source {
 public:
  JsonlSource(SourceSpec spec, TextDecoder decoder)
      : spec_(std::move(spec)), decoder_(std::move(decoder)) {}

  Status Init() {
    if (!in_.Open(spec_.path, FileLineEnd(decoder_, spec_.path))) {
      return Status::IoError(spec_.yaml_path + ".path: cannot open " + spec_.path);
    }
    std::map<std::string, int> index;
    std::string line;
    uint64_t consumed = 0;
    bool too_long = false;
    while (in_.Next(&line, &consumed, &too_long)) {
      if (too_long || IsBlank(line)) continue;  // rejected when read
      if (!DecodeLine(decoder_, &line, 0).empty()) continue;
      Result<Json> j = ParseJson(line);
      if (!j.ok() || !j->is_object()) continue;
      ForEachLeaf(*j, "", [&](const std::string& path, const Json&) {
        if (index.emplace(path, static_cast<int>(schema_.fields.size())).second) {
          schema_.fields.push_back({path, FieldType::kString, 0, 0});
        }
      });
      if (schema_.fields.size() > limits::kMaxColumns) {
        return Status::InvalidArgument(spec_.yaml_path + ": more than " +
                                       std::to_string(limits::kMaxColumns) +
                                       " distinct fields in " + spec_.path);
      }
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
    max_rows = limits::BatchRows(max_rows, schema_.fields.size());
    if (max_rows == 0) return false;
    const uint64_t begin = offset_;
    const uint64_t first_line = line_ + 1;
    size_t n_records = 0;
    size_t rows = 0;
    std::string line;
    uint64_t consumed = 0;
    bool too_long = false;
    std::vector<std::optional<std::string>> cells(schema_.fields.size());
    while (rows < max_rows && in_.Next(&line, &consumed, &too_long)) {
      const uint64_t line_begin = offset_;
      offset_ += consumed;
      const uint64_t number = ++line_;
      if (!too_long && IsBlank(line)) continue;
      ++rows;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::string error =
          too_long ? "line longer than " + std::to_string(limits::kMaxLineBytes) + " bytes"
                   : DecodeLine(decoder_, &line, line_begin);
      if (error.empty() && IsBlank(line)) {  // blanks of another encoding (EBCDIC 0x40)
        --rows;
        continue;
      }
      Json j;
      if (error.empty()) {
        if (Result<Json> parsed = ParseJson(line); !parsed.ok()) {
          error = parsed.status().message();
        } else {
          j = std::move(parsed).value();
          if (!j.is_object()) error = "not a JSON object";
        }
      }
      std::fill(cells.begin(), cells.end(), std::nullopt);
      if (error.empty()) {
        ForEachLeaf(j, "", [&](const std::string& path, const Json& leaf) {
          auto it = index_.find(path);
          if (it == index_.end() || leaf.is_null())
            return;  // not in the first pass: unchanged file?
          std::string text = leaf.is_string() ? leaf.get<std::string>() : leaf.dump();
          if (text.size() > limits::kMaxFieldBytes && error.empty()) {
            error = "value of '" + path + "' longer than " +
                    std::to_string(limits::kMaxFieldBytes) + " bytes";
          }
          cells[it->second] = std::move(text);
        });
        if (error.empty() && (!cells[key_index_] || cells[key_index_]->empty())) {
          error = "missing key";
        }
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
        fate.set_value(RejectValue(line));
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
    if (!in_.SeekTo(0)) return Status::IoError(spec_.yaml_path + ": cannot seek in " + spec_.path);
    uint64_t lines = 0;
    std::string line;
    uint64_t offset = 0;
    uint64_t consumed = 0;
    bool too_long = false;
    while (offset < range.begin_offset() && in_.Next(&line, &consumed, &too_long)) {
      offset += consumed;
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
    if (!in_.SeekTo(offset)) {
      return Status::IoError(spec_.yaml_path + ": cannot seek in " + spec_.path);
    }
    offset_ = offset;
    line_ = lines;
    return Status::Ok();
  }

  SourceSpec spec_;
  TextDecoder decoder_;  // the `encoding:` of the file
  LineReader in_;
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
  if (!decoder.ok()) return decoder.status().WithContext(spec.yaml_path + ".encoding");
  auto source = std::make_unique<JsonlSource>(spec, std::move(decoder).value());
  SLUICE_RETURN_IF_ERROR(source->Init());
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace sluice
