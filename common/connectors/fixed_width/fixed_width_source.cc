// Fixed-width source. The file is converted to UTF-8 whole when it opens
// (an EBCDIC file's line ends are only known after conversion), then cut
// into lines; positions count characters, so a UTF-8 file with accents
// cuts as its single-byte original would.
#include "common/connectors/fixed_width/fixed_width_source.h"

#include <fstream>
#include <set>
#include <sstream>

#include "common/connectors/fixed_width/fixed_width_layout.h"
#include "common/connectors/text/text_decoder.h"
#include "common/connectors/text/utf8_text.h"

namespace sluice {
namespace {

// The lines' record-type filter: column and accepted values.
struct RecordTypeFilter {
  int column = -1;  // -1: every line is a record
  std::set<std::string, std::less<>> values;
};

class FixedWidthSource : public Source {
 public:
  FixedWidthSource(SourceSpec spec, FixedWidthLayout layout, TextDecoder decoder, DecodedText text,
                   FixedWidthTrim trim, RecordTypeFilter filter, bool pad)
      : spec_(std::move(spec)),
        layout_(std::move(layout)),
        decoder_(std::move(decoder)),
        text_(std::move(text)),
        trim_(trim),
        filter_(std::move(filter)),
        pad_(pad) {
    for (const auto& c : layout_.columns) schema_.fields.push_back({c.name, FieldType::kString});
    key_index_ = layout_.IndexOf(spec_.Option("key"));
    if (text_.text.rfind("\xEF\xBB\xBF", 0) == 0) data_begin_ = pos_ = 3;  // a UTF-8 BOM
  }

  const Schema& schema() const override { return schema_; }

  Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) override {
    const std::string& t = text_.text;
    if (pos_ >= t.size() || max_rows == 0) return false;
    out->schema = schema_;
    out->range.set_begin_offset(pos_);
    out->range.set_first_line(line_);
    size_t n_records = 0;
    size_t rows = 0;
    while (rows < max_rows && pos_ < t.size()) {
      size_t nl = t.find('\n', pos_);
      size_t next = nl == std::string::npos ? t.size() : nl + 1;
      std::string_view line(t.data() + pos_, (nl == std::string::npos ? t.size() : nl) - pos_);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const size_t line_offset = pos_;
      const uint64_t number = line_++;
      pos_ = next;
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank
      ++rows;
      std::string reason, rule = "malformed_row";
      if (size_t bad = FindInvalidUtf8(line); bad != std::string_view::npos) {
        rule = "invalid_utf8";
        reason = text_.InvalidByteReason(decoder_, line_offset + bad);
      } else if (const size_t chars = Cut(line); !Selected()) {
        --rows;  // a line of another record type: not this source's
        continue;
      } else if (chars < layout_.width && !pad_) {
        reason = "line too short: " + std::to_string(chars) + " characters, the layout needs " +
                 std::to_string(layout_.width);
      } else if (cells_[key_index_].empty()) {
        rule = "missing_key";
        reason = "missing key";
      }
      if (!reason.empty()) {
        rejects->push_back(Reject(number, line, rule, reason));
        continue;
      }
      AppendTextRecord(
          out, &n_records, schema_, spec_.name, number, key_index_, [](int) { return false; },
          [&](int c) -> const std::string& { return cells_[c]; });
    }
    out->records.resize(n_records);
    out->range.set_end_offset(pos_);
    return true;
  }

  Status Seek(const v1::BatchRange& range) override {
    const size_t offset = range.begin_offset();
    if (offset > text_.text.size() || (offset > 0 && text_.text[offset - 1] != '\n')) {
      return Status::InvalidArgument(spec_.yaml_path + ": offset " + std::to_string(offset) +
                                     " is not the start of a line of " + spec_.path);
    }
    pos_ = std::max(offset, data_begin_);
    line_ = pos_ == data_begin_ ? 1 : range.first_line();
    return Status::Ok();
  }

 private:
  // Cuts `line` into cells_ by the layout (character positions; a short
  // line as if padded with blanks). Returns the line's length in characters.
  size_t Cut(std::string_view line) {
    starts_.clear();  // byte offset of each character, then of the end
    for (size_t i = 0; i < line.size(); ++i) {
      if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) starts_.push_back(i);
    }
    const size_t chars = starts_.size();
    starts_.push_back(line.size());
    cells_.resize(layout_.columns.size());
    for (size_t c = 0; c < layout_.columns.size(); ++c) {
      const FixedWidthColumn& col = layout_.columns[c];
      const size_t from = std::min(col.start, chars);
      const size_t to = std::min(col.start + col.length, chars);
      std::string_view cell = line.substr(starts_[from], starts_[to] - starts_[from]);
      cells_[c].assign(TrimFixedWidth(cell, trim_));
    }
    return chars;
  }

  bool Selected() const {
    return filter_.column < 0 || filter_.values.count(cells_[filter_.column]) > 0;
  }

  v1::Fate Reject(uint64_t line, std::string_view raw, const std::string& rule,
                  const std::string& reason) const {
    // The key cannot be trusted in a line that is cut wrong or unreadable.
    v1::Fate fate =
        ExtractReject(spec_.name, "line:" + std::to_string(line), line, raw, rule, reason);
    if (rule == "missing_key") fate.set_field(schema_.fields[key_index_].name);
    return fate;
  }

  SourceSpec spec_;
  FixedWidthLayout layout_;
  TextDecoder decoder_;
  DecodedText text_;  // the whole file as UTF-8
  FixedWidthTrim trim_;
  RecordTypeFilter filter_;
  bool pad_;
  Schema schema_;
  int key_index_ = -1;
  size_t data_begin_ = 0;           // after a byte order mark
  size_t pos_ = 0;                  // offset in text_.text of the next line
  uint64_t line_ = 1;               // its number
  std::vector<size_t> starts_;      // scratch: character offsets of a line
  std::vector<std::string> cells_;  // scratch: the cut line
};

Result<RecordTypeFilter> ParseRecordType(const std::string& text, const FixedWidthLayout& layout) {
  RecordTypeFilter filter;
  if (text.empty()) return filter;
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument("expected '<column>=<value>[,<value>...]', got '" + text + "'");
  }
  filter.column = layout.IndexOf(text.substr(0, eq));
  if (filter.column < 0) {
    return Status::InvalidArgument(layout.NotInLayout(text.substr(0, eq)));
  }
  std::istringstream values(text.substr(eq + 1));
  for (std::string v; std::getline(values, v, ',');) filter.values.insert(v);
  return filter;
}

}  // namespace

Result<std::unique_ptr<Source>> OpenFixedWidthSource(const SourceSpec& spec) {
  const std::string& at = spec.yaml_path;
  auto layout = FixedWidthLayout::Parse(spec.Option("layout"));
  if (!layout.ok()) return layout.status().WithContext(at + ".layout");
  const std::string key = spec.Option("key");
  if (key.empty()) return Status::InvalidArgument(at + ".key: required (a column of the layout)");
  if (layout->IndexOf(key) < 0) {
    return Status::InvalidArgument(at + ".key: " + layout->NotInLayout(key));
  }
  auto decoder = TextDecoder::Create(spec.Option("encoding"));
  if (!decoder.ok()) return decoder.status().WithContext(at + ".encoding");
  auto trim = ParseFixedWidthTrim(spec.Option("trim"));
  if (!trim.ok()) return trim.status().WithContext(at + ".trim");
  auto filter = ParseRecordType(spec.Option("record_type"), *layout);
  if (!filter.ok()) return filter.status().WithContext(at + ".record_type");
  const std::string short_lines = spec.Option("short_lines", "reject");
  if (short_lines != "reject" && short_lines != "pad") {
    return Status::InvalidArgument(at + ".short_lines: must be reject or pad, got '" + short_lines +
                                   "'");
  }
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) return Status::NotFound(at + ".path: " + spec.path + ": cannot open");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Status::IoError(at + ".path: " + spec.path + ": read error");
  DecodedText text = DecodeText(*decoder, bytes.str());
  return std::unique_ptr<Source>(std::make_unique<FixedWidthSource>(
      spec, std::move(layout).value(), std::move(decoder).value(), std::move(text), *trim,
      std::move(filter).value(), short_lines == "pad"));
}

}  // namespace sluice
