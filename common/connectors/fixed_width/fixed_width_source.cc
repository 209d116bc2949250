// Fixed-width source. The file is read line by line (memory does not grow
// with it), each line converted to UTF-8 on its own; positions count
// characters, so a UTF-8 file with accents cuts as its single-byte original
// would. With `record_length` the file is a run of fixed-length records
// without line ends (a mainframe dataset): each record is cut by bytes and
// only its text columns are converted, since packed decimal is binary.
// Zoned and packed columns become decimal text. Batch ranges are byte
// offsets in the file.
#include "common/connectors/fixed_width/fixed_width_source.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "common/connectors/fixed_width/cobol_decimal.h"
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
  FixedWidthSource(SourceSpec spec, FixedWidthLayout layout, TextDecoder decoder, char line_end,
                   size_t record_length, FixedWidthTrim trim, RecordTypeFilter filter, bool pad)
      : spec_(std::move(spec)),
        layout_(std::move(layout)),
        decoder_(std::move(decoder)),
        line_end_(line_end),
        record_length_(record_length),
        trim_(trim),
        filter_(std::move(filter)),
        pad_(pad) {
    for (const auto& c : layout_.columns) schema_.fields.push_back({c.name, FieldType::kString});
    key_index_ = layout_.IndexOf(spec_.Option("key"));
    for (int b = 0; b < 256; ++b) {
      std::string text;
      decoder_.Decode(std::string(1, static_cast<char>(b)), &text);
      blank_[b] = text == " " || b == 0;  // spaces, and low-values padding
    }
  }

  Status Init() {
    in_.open(spec_.path, std::ios::binary);
    if (!in_) return Status::NotFound(spec_.yaml_path + ".path: " + spec_.path + ": cannot open");
    return Status::Ok();
  }

  const Schema& schema() const override { return schema_; }

  Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) override {
    if (max_rows == 0 || in_.peek() == std::char_traits<char>::eof()) return false;
    out->schema = schema_;
    out->range.set_begin_offset(offset_);
    out->range.set_first_line(line_);
    size_t n_records = 0;
    size_t rows = 0;
    uint64_t unit_offset = 0;
    while (rows < max_rows && ReadUnit(&unit_offset)) {
      const uint64_t number = line_++;
      Verdict v = record_length_ > 0 ? CutRecord(unit_offset) : CutLine(unit_offset);
      if (v.skip) continue;
      ++rows;
      if (v.reason.empty() && cells_[key_index_].empty()) {
        v = {false, "missing_key", "missing key", schema_.fields[key_index_].name, v.text};
      }
      if (!v.reason.empty()) {
        // The key cannot be trusted in a line that is cut wrong or unreadable.
        v1::Fate fate = ExtractReject(spec_.name, "line:" + std::to_string(number), number, v.text,
                                      v.rule, v.reason);
        if (!v.field.empty()) fate.set_field(v.field);
        rejects->push_back(std::move(fate));
        continue;
      }
      AppendTextRecord(
          out, &n_records, schema_, spec_.name, number, key_index_, [](int) { return false; },
          [&](int c) -> const std::string& { return cells_[c]; });
    }
    out->records.resize(n_records);
    out->range.set_end_offset(offset_);
    return true;
  }

  // A range starts at the start of the file or just after a line end.
  Status Seek(const v1::BatchRange& range) override {
    const uint64_t offset = range.begin_offset();
    in_.clear();
    if (record_length_ > 0) {
      if (offset % record_length_ != 0) {
        return Status::InvalidArgument(spec_.yaml_path + ": offset " + std::to_string(offset) +
                                       " is not the start of a record of " + spec_.path);
      }
      in_.seekg(static_cast<std::streamoff>(offset));
      offset_ = offset;
      line_ = offset / record_length_ + 1;
      return Status::Ok();
    }
    bool at_line_start = offset == 0;
    if (!at_line_start) {
      in_.seekg(static_cast<std::streamoff>(offset - 1));
      at_line_start = in_ && in_.get() == static_cast<unsigned char>(line_end_);
    }
    if (!at_line_start) {
      return Status::InvalidArgument(spec_.yaml_path + ": offset " + std::to_string(offset) +
                                     " is not the start of a line of " + spec_.path);
    }
    in_.clear();
    line_ = offset == 0 ? 1 : range.first_line();
    if (offset != 0 && line_ == 0) {
      // A stream leased again: the line of `offset` is counted.
      line_ = 1;
      in_.seekg(0);
      std::vector<char> chunk(1 << 16);
      for (uint64_t left = offset; left > 0 && in_;) {
        const auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, chunk.size()));
        in_.read(chunk.data(), n);
        line_ += static_cast<uint64_t>(
            std::count(chunk.data(), chunk.data() + in_.gcount(), static_cast<char>(line_end_)));
        left -= static_cast<uint64_t>(in_.gcount());
        if (in_.gcount() == 0) break;
      }
      in_.clear();
    }
    in_.seekg(static_cast<std::streamoff>(offset));
    offset_ = offset;
    return Status::Ok();
  }

 private:
  // What became of a line or record: skipped (blank, another record type),
  // rejected (rule, reason, field), or a record in cells_.
  struct Verdict {
    bool skip = false;
    std::string rule, reason, field;
    std::string_view text;  // the line as the rejection shows it
  };

  // Reads the next line (without its end) or fixed-length record into raw_,
  // and its offset in the file into `*offset`. False at the end of the file.
  bool ReadUnit(uint64_t* offset) {
    *offset = offset_;
    if (record_length_ == 0) {
      if (!std::getline(in_, raw_, line_end_)) return false;
      offset_ += raw_.size() + (in_.eof() ? 0 : 1);
      return true;
    }
    raw_.resize(record_length_);
    in_.read(raw_.data(), static_cast<std::streamsize>(record_length_));
    raw_.resize(static_cast<size_t>(in_.gcount()));
    offset_ += raw_.size();
    return !raw_.empty();
  }

  // A line read from byte `offset`: converted whole, then cut by characters.
  Verdict CutLine(uint64_t offset) {
    Verdict v;
    v.reason = DecodeLine(decoder_, &raw_, offset);
    v.rule = v.reason.empty() ? "malformed_row" : "invalid_utf8";
    std::string_view line = raw_;
    if (offset == 0 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // BOM
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    v.text = line;
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      v.skip = true;  // blank
    } else if (!v.reason.empty()) {
      // reason set by DecodeLine
    } else if (size_t bad = FindInvalidUtf8(line); bad != std::string_view::npos) {
      v.rule = "invalid_utf8";
      v.reason =
          "invalid utf-8 at byte " + std::to_string(offset + (line.data() - raw_.data()) + bad);
    } else if (const size_t chars = Cut(line); !Selected()) {
      v.skip = true;  // a line of another record type: not this source's
    } else if (chars < layout_.width && !pad_) {
      v.reason = "line too short: " + std::to_string(chars) + " characters, the layout needs " +
                 std::to_string(layout_.width);
    } else {
      DecodeNumbers(&v);
    }
    return v;
  }

  // A fixed-length record read from byte `offset`: cut by bytes, then each
  // text column converted (a packed column is binary).
  Verdict CutRecord(uint64_t offset) {
    Verdict v;
    v.rule = "malformed_row";
    shown_.clear();
    bool blank = true;
    for (char c : raw_) blank = blank && blank_[static_cast<unsigned char>(c)];
    cells_.resize(layout_.columns.size());
    for (size_t c = 0; c < layout_.columns.size(); ++c) {
      const FixedWidthColumn& col = layout_.columns[c];
      std::string& cell = cells_[c];
      cell.assign(raw_, std::min(col.start, raw_.size()), col.length);
      if (col.format == FixedWidthFormat::kPacked) {
        shown_.append("[").append(HexBytes(cell)).append("]");
        continue;
      }
      std::string reason = DecodeLine(decoder_, &cell, offset + col.start);
      if (reason.empty() && decoder_.is_utf8()) {
        if (size_t bad = FindInvalidUtf8(cell); bad != std::string_view::npos) {
          reason = "invalid utf-8 at byte " + std::to_string(offset + col.start + bad);
        }
      }
      shown_.append(cell);
      if (!reason.empty() && v.reason.empty()) v = {false, "invalid_utf8", reason, col.name, {}};
      cell.assign(TrimFixedWidth(cell, trim_));
    }
    v.text = shown_;
    if (blank) {
      v.skip = true;
    } else if (raw_.size() < record_length_) {
      v = {false, "malformed_row",
           "record too short: " + std::to_string(raw_.size()) + " bytes at the end of the file, " +
               "record_length is " + std::to_string(record_length_),
           "", shown_};
    } else if (!v.reason.empty()) {
      // an unconvertible byte
    } else if (!Selected()) {
      v.skip = true;
    } else {
      DecodeNumbers(&v);
    }
    return v;
  }

  // Replaces each zoned and packed cell by its decimal text; a cell that is
  // not one rejects the line.
  void DecodeNumbers(Verdict* v) {
    for (size_t c = 0; c < layout_.columns.size(); ++c) {
      const FixedWidthColumn& col = layout_.columns[c];
      if (col.format == FixedWidthFormat::kText) continue;
      std::string reason = col.format == FixedWidthFormat::kPacked
                               ? DecodePacked(cells_[c], col.scale, &number_)
                               : DecodeZoned(cells_[c], col.scale, &number_);
      if (!reason.empty()) {
        v->rule = "malformed_row";
        v->reason = "column " + col.name + ": " + reason;
        v->field = col.name;
        return;
      }
      cells_[c].swap(number_);
    }
  }

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

  SourceSpec spec_;
  FixedWidthLayout layout_;
  TextDecoder decoder_;
  char line_end_;         // the byte that ends a line ('\n', or NL 0x15 / LF 0x25 in EBCDIC)
  size_t record_length_;  // bytes of a record; 0: the file has lines
  std::array<bool, 256> blank_{};  // bytes that convert to a space
  std::ifstream in_;
  FixedWidthTrim trim_;
  RecordTypeFilter filter_;
  bool pad_;
  Schema schema_;
  int key_index_ = -1;
  uint64_t offset_ = 0;             // byte offset of the next line in the file
  uint64_t line_ = 1;               // its number
  std::string raw_;                 // scratch: the line read, then converted
  std::vector<size_t> starts_;      // scratch: character offsets of a line
  std::vector<std::string> cells_;  // scratch: the cut line
  std::string number_;              // scratch: a decoded zoned or packed cell
  std::string shown_;               // scratch: a record as a rejection shows it
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
  if (layout.columns[filter.column].format == FixedWidthFormat::kPacked) {
    return Status::InvalidArgument("column '" + text.substr(0, eq) + "' is packed, not text");
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
  auto record_length = ParseRecordLength(spec.Option("record_length"), *layout);
  if (!record_length.ok()) return record_length.status().WithContext(at + ".record_length");
  auto source = std::make_unique<FixedWidthSource>(
      spec, std::move(layout).value(), *decoder, FileLineEnd(*decoder, spec.path), *record_length,
      *trim, std::move(filter).value(), short_lines == "pad");
  SLUICE_RETURN_IF_ERROR(source->Init());
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace sluice
