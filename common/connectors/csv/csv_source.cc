// RFC 4180 CSV source over a memory-mapped file, or over a window of a file
// in another encoding converted to UTF-8 (csv_text.h).
//
// Rows are scanned in place: fields are views into the text, copied once
// into the record values. A row that runs past the window's end is scanned
// again once the window has moved on (or grown, for a row longer than it). A malformed row becomes
// a REJECTED fate and the scan moves on; an unbalanced quote costs only the physical line where the
// row started, so the rows after it are not swallowed into one bad field.
// Rows and fields longer than the limits of common/core/limits.h are
// rejected, and a row holds at most limits::kMaxColumns + 1 field views
// whatever its number of delimiters.
#include "common/connectors/csv/csv_source.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <set>

#include "common/connectors/csv/csv_text.h"
#include "common/connectors/text/utf8_text.h"
#include "common/core/limits.h"

namespace sluice {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

struct FieldRef {
  const char* begin;
  size_t size;
  bool escaped;  // contains doubled quotes to undo
};

enum class RowError { kNone, kUnterminated, kStrayQuote, kGarbageAfterQuote };

// One scanned row: its fields (views into the file) and where it ends.
struct RowScan {
  // The first kMaxFields fields; `field_count` counts them all.
  static constexpr size_t kMaxFields = limits::kMaxColumns + 1;
  std::vector<FieldRef> fields;
  size_t field_count = 0;
  const char* content_end = nullptr;  // before the line terminator
  const char* end = nullptr;          // after the line terminator
  uint64_t extra_lines = 0;           // line breaks inside quoted fields
  RowError error = RowError::kNone;
  const char* error_at = nullptr;
};

class CsvSource : public Source {
 public:
  CsvSource(SourceSpec spec, std::unique_ptr<CsvText> file, char delimiter, int quote)
      : spec_(std::move(spec)), file_(std::move(file)), delimiter_(delimiter), quote_(quote) {
    Rebase();
    special_.fill(false);
    special_[static_cast<unsigned char>(delimiter_)] = true;
    special_['\n'] = true;
    special_['\r'] = true;
    if (quote_ >= 0) special_[static_cast<unsigned char>(quote_)] = true;
  }

  // Reads the header (or names the columns c1..cN) and finds the key.
  Status Init(bool header) {
    const char* p = begin_;
    if (std::string_view(p, end_ - p).substr(0, kBom.size()) == kBom) p += kBom.size();
    line_ = 1;
    while (true) {
      p = SkipBlankLines(p);
      if (p == end_ && file_->at_eof()) {
        return Status::InvalidArgument(spec_.path + ": empty file: no header row");
      }
      if (p != end_) ScanRow(p, &row_);
      if (p != end_ && !PastWindow(row_)) break;
      SLUICE_ASSIGN_OR_RETURN(p, Advance(p));
    }
    if (row_.field_count > limits::kMaxColumns) {
      return Status::InvalidArgument(spec_.path + ": line " + std::to_string(line_) + ": " +
                                     std::to_string(row_.field_count) + " columns (at most " +
                                     std::to_string(limits::kMaxColumns) + ")");
    }
    if (header) {
      if (row_.error != RowError::kNone) {
        return Status::InvalidArgument(spec_.path + ": line " + std::to_string(line_) +
                                       ": malformed header: " + ErrorText(row_));
      }
      std::string_view raw(p, row_.content_end - p);
      if (size_t bad = FindInvalidUtf8(raw); bad != std::string_view::npos) {
        return Status::InvalidArgument(spec_.path +
                                       ": header: " + file_->InvalidByteReason(p - begin_ + bad));
      }
      std::set<std::string> seen;
      for (size_t i = 0; i < row_.fields.size(); ++i) {
        std::string name = FieldText(row_.fields[i]);
        if (name.empty()) {
          return Status::InvalidArgument(spec_.path + ": header: empty name for column " +
                                         std::to_string(i + 1));
        }
        if (!seen.insert(name).second) {
          return Status::InvalidArgument(spec_.path + ": header: duplicate column '" + name + "'");
        }
        schema_.fields.push_back({name, FieldType::kString, 0, 0});
      }
      line_ += 1 + row_.extra_lines;
      p = row_.end;
    } else {
      for (size_t i = 0; i < row_.fields.size(); ++i) {
        schema_.fields.push_back({"c" + std::to_string(i + 1), FieldType::kString, 0, 0});
      }
    }
    data_begin_ = file_->FileOffset(p - begin_);
    data_line_ = line_;
    pos_ = p;
    std::string key = spec_.Option("key");
    key_index_ = schema_.IndexOf(key);
    if (key_index_ < 0) {
      return Status::InvalidArgument(spec_.yaml_path + ".key: column '" + key +
                                     "' is not in the header of " + spec_.path);
    }
    return Status::Ok();
  }

  const Schema& schema() const override { return schema_; }

  Result<bool> Next(size_t max_rows, RecordBatch* out, std::vector<v1::Fate>* rejects) override {
    max_rows = limits::BatchRows(max_rows, schema_.fields.size());
    const char* p = SkipBlankLines(pos_);
    while (p == end_ && !file_->at_eof()) {
      SLUICE_ASSIGN_OR_RETURN(p, Advance(p));
      p = SkipBlankLines(p);
    }
    if (p == end_ || max_rows == 0) {
      pos_ = p;
      return false;
    }
    out->schema = schema_;
    out->range.set_begin_offset(file_->FileOffset(p - begin_));
    out->range.set_first_line(line_);
    out->records.reserve(std::min<size_t>(max_rows, 1 << 16));
    size_t n_records = 0;
    size_t rows = 0;
    const size_t ncols = schema_.fields.size();
    while (rows < max_rows) {
      p = SkipBlankLines(p);
      if (p == end_ && file_->at_eof()) break;
      if (p != end_) ScanRow(p, &row_);
      if (p == end_ || PastWindow(row_)) {
        SLUICE_ASSIGN_OR_RETURN(p, Advance(p));
        continue;
      }
      const uint64_t row_line = line_;
      const char* row_begin = p;
      ++rows;
      const bool bad_shape = row_.error != RowError::kNone || row_.field_count != ncols;
      if (row_.error == RowError::kUnterminated || (bad_shape && row_.extra_lines > 0)) {
        // Most likely an unbalanced quote that ran into the rows below:
        // reject the row's first physical line only and resume after it.
        RejectFirstLine(row_begin, row_line, rejects);
        p = NextLine(row_begin);
        line_ = row_line + 1;
      } else {
        p = row_.end;
        line_ = row_line + 1 + row_.extra_lines;
        std::string_view raw(row_begin, row_.content_end - row_begin);
        if (row_.error != RowError::kNone) {
          rejects->push_back(Reject(row_line, raw, "malformed_row", ErrorText(row_)));
        } else if (row_.field_count != ncols) {
          rejects->push_back(Reject(row_line, raw, "malformed_row",
                                    "wrong column count: expected " + std::to_string(ncols) +
                                        ", found " + std::to_string(row_.field_count)));
        } else if (raw.size() > limits::kMaxLineBytes) {
          rejects->push_back(
              Reject(row_line, raw, "malformed_row",
                     "row longer than " + std::to_string(limits::kMaxLineBytes) + " bytes"));
        } else if (int long_field = LongField(); long_field >= 0) {
          v1::Fate fate =
              Reject(row_line, raw, "malformed_row",
                     "field longer than " + std::to_string(limits::kMaxFieldBytes) + " bytes");
          fate.set_field(schema_.fields[long_field].name);
          rejects->push_back(std::move(fate));
        } else if (size_t bad = FindInvalidUtf8(raw); bad != std::string_view::npos) {
          v1::Fate fate = Reject(row_line, raw, "invalid_utf8",
                                 file_->InvalidByteReason(row_begin - begin_ + bad));
          fate.set_field(ColumnAt(row_begin + bad));
          rejects->push_back(std::move(fate));
        } else if (row_.fields[key_index_].size == 0) {
          v1::Fate fate = Reject(row_line, raw, "missing_key", "missing key");
          fate.set_field(schema_.fields[key_index_].name);
          rejects->push_back(std::move(fate));
        } else {
          if (n_records == out->records.size()) out->records.emplace_back();
          FillRecord(row_line, &out->records[n_records++]);
        }
      }
    }
    out->records.resize(n_records);
    out->range.set_end_offset(file_->FileOffset(p - begin_));
    pos_ = p;
    file_->Release(p - begin_);  // read: its pages go back (a mapped file)
    return true;
  }

  Status Seek(const v1::BatchRange& range) override {
    uint64_t offset = range.begin_offset();
    uint64_t line = range.first_line();
    if (offset == 0 && line == 0) {  // the start of the data
      offset = data_begin_;
      line = data_line_;
    }
    const bool count_line = line == 0;  // a stream leased again
    if (offset < data_begin_ || (!count_line && line < data_line_)) {
      return Status::InvalidArgument(spec_.path + ": seek outside the data rows (offset " +
                                     std::to_string(range.begin_offset()) + ", line " +
                                     std::to_string(range.first_line()) + ")");
    }
    if (count_line) {
      // Rows end at a line break only (quoted line breaks count as lines
      // too): the line of an offset is the data's first plus the breaks
      // before it.
      SLUICE_ASSIGN_OR_RETURN(uint64_t breaks, file_->CountLineEnds(data_begin_, offset));
      line = data_line_ + breaks;
    }
    SLUICE_ASSIGN_OR_RETURN(size_t at, file_->Seek(offset));
    Rebase();
    if (at > static_cast<size_t>(end_ - begin_)) {
      return Status::InvalidArgument(spec_.path + ": seek outside the data rows (offset " +
                                     std::to_string(range.begin_offset()) + ", line " +
                                     std::to_string(range.first_line()) + ")");
    }
    pos_ = begin_ + at;
    line_ = line;
    return Status::Ok();
  }

 private:
  // Points begin_ and end_ at the text held now.
  void Rebase() {
    std::string_view d = file_->data();
    begin_ = d.data();
    end_ = d.data() + d.size();
    no_quote_from_ = end_;
  }

  // True when `row` may go on past the window: it touches its end, and the
  // file does not end there.
  bool PastWindow(const RowScan& row) const {
    return !file_->at_eof() && (row.end == end_ || row.error == RowError::kUnterminated);
  }

  // Moves the window to start at `p` (growing it when `p` already starts
  // it: a row longer than the window). Returns where `p` is now.
  Result<const char*> Advance(const char* p) {
    SLUICE_RETURN_IF_ERROR(file_->Advance(p - begin_, p == begin_));
    Rebase();
    return begin_;
  }

  // Skips empty lines ("\n" or "\r\n"), counting them.
  const char* SkipBlankLines(const char* p) {
    while (p != end_) {
      if (*p == '\n') {
        ++p;
      } else if (*p == '\r' && p + 1 != end_ && p[1] == '\n') {
        p += 2;
      } else {
        break;
      }
      ++line_;
    }
    return p;
  }

  const char* NextLine(const char* p) const {
    const void* nl = std::memchr(p, '\n', end_ - p);
    return nl == nullptr ? end_ : static_cast<const char*>(nl) + 1;
  }

  // The next quote at or after `p`, or end_. Remembers where the file has no
  // more quotes, so that many unterminated fields do not rescan to the end.
  const char* FindQuote(const char* p) {
    if (p >= no_quote_from_) return end_;
    const void* q = std::memchr(p, quote_, end_ - p);
    if (q == nullptr) {
      no_quote_from_ = p;
      return end_;
    }
    return static_cast<const char*>(q);
  }

  // The first byte at or after `p` that may end an unquoted field
  // (delimiter, quote, CR or LF), or end_.
  const char* SkipPlain(const char* p) const {
#ifdef __SSE2__
    const __m128i delim = _mm_set1_epi8(delimiter_);
    const __m128i quote = _mm_set1_epi8(quote_ >= 0 ? static_cast<char>(quote_) : delimiter_);
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    while (end_ - p >= 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, delim), _mm_cmpeq_epi8(v, quote)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
      int mask = _mm_movemask_epi8(hit);
      if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
      p += 16;
    }
#endif
    while (p != end_ && !special_[static_cast<unsigned char>(*p)]) ++p;
    return p;
  }

  void SetError(RowScan* row, RowError error, const char* at) {
    if (row->error == RowError::kNone) {
      row->error = error;
      row->error_at = at;
    }
  }

  // The index of the first field longer than kMaxFieldBytes, or -1.
  int LongField() const {
    for (size_t i = 0; i < row_.fields.size(); ++i) {
      if (row_.fields[i].size > limits::kMaxFieldBytes) return static_cast<int>(i);
    }
    return -1;
  }

  static void AddField(RowScan* row, const FieldRef& field) {
    if (row->field_count++ < RowScan::kMaxFields) row->fields.push_back(field);
  }

  // Scans one row starting at `p` (not at end_) into `row`.
  void ScanRow(const char* p, RowScan* row) {
    row->fields.clear();
    row->field_count = 0;
    row->extra_lines = 0;
    row->error = RowError::kNone;
    row->error_at = nullptr;
    while (true) {
      const char* start = p;
      bool escaped = false;
      if (quote_ >= 0 && p != end_ && *p == quote_) {
        const char* open = p++;
        start = p;
        const char* close;
        while (true) {
          close = FindQuote(p);
          if (close == end_) {
            SetError(row, RowError::kUnterminated, open);
            AddField(row, {start, static_cast<size_t>(end_ - start), false});
            row->content_end = row->end = end_;
            return;
          }
          if (close + 1 != end_ && close[1] == quote_) {
            escaped = true;
            p = close + 2;
            continue;
          }
          break;
        }
        row->extra_lines += std::count(start, close, '\n');
        p = close + 1;
        if (p == end_ || *p == delimiter_ || *p == '\n' ||
            (*p == '\r' && (p + 1 == end_ || p[1] == '\n'))) {
          AddField(row, {start, static_cast<size_t>(close - start), escaped});
          if (!EndField(&p, row)) return;
          continue;
        }
        // Text after the closing quote: read on as unquoted text so the row
        // still ends where a lenient reader would end it; it is rejected.
        SetError(row, RowError::kGarbageAfterQuote, p);
        start = open;
      }
      while (true) {
        p = SkipPlain(p);
        if (p != end_ && *p == '\r' && p + 1 != end_ && p[1] != '\n') {
          ++p;  // a lone CR is data
          continue;
        }
        if (p != end_ && quote_ >= 0 && *p == quote_) {
          SetError(row, RowError::kStrayQuote, p);
          ++p;
          continue;
        }
        break;
      }
      AddField(row, {start, static_cast<size_t>(p - start), escaped});
      if (!EndField(&p, row)) return;
    }
  }

  // At a field's end (delimiter, line end or EOF): steps over a delimiter
  // and returns true, or records the row's end and returns false.
  bool EndField(const char** p, RowScan* row) {
    const char* q = *p;
    if (q != end_ && *q == delimiter_) {
      *p = q + 1;
      return true;
    }
    row->content_end = q;
    if (q == end_) {
      row->end = q;
    } else if (*q == '\n') {
      row->end = q + 1;
    } else {  // "\r\n" or a CR at the end of the file
      row->end = (q + 1 != end_) ? q + 2 : q + 1;
    }
    return false;
  }

  std::string FieldText(const FieldRef& f) const {
    std::string s;
    AssignField(f, &s);
    return s;
  }

  void AssignField(const FieldRef& f, std::string* s) const {
    if (!f.escaped) {
      s->assign(f.begin, f.size);
      return;
    }
    s->clear();
    s->reserve(f.size);
    for (size_t i = 0; i < f.size; ++i) {
      s->push_back(f.begin[i]);
      if (f.begin[i] == quote_ && i + 1 < f.size && f.begin[i + 1] == quote_) ++i;
    }
  }

  void FillRecord(uint64_t line, Record* r) const {
    r->source = spec_.name;
    r->line = line;
    r->merged.clear();
    r->values.resize(row_.fields.size());
    for (size_t i = 0; i < row_.fields.size(); ++i) {
      Value& v = r->values[i];
      v.is_null = false;
      v.i = 0;
      AssignField(row_.fields[i], &v.s);
    }
    r->key = r->values[key_index_].s;
    r->content_hash = ContentHash(schema_, r->values);
  }

  static std::string ErrorText(const RowScan& row) {
    switch (row.error) {
      case RowError::kUnterminated:
        return "unterminated quoted field";
      case RowError::kStrayQuote:
        return "quote inside an unquoted field";
      case RowError::kGarbageAfterQuote:
        return "unexpected text after a closing quote";
      case RowError::kNone:
        break;
    }
    return "";
  }

  // The column name of the field holding byte `at` of the current row.
  std::string ColumnAt(const char* at) const {
    for (size_t i = 0; i < row_.fields.size() && i < schema_.fields.size(); ++i) {
      const FieldRef& f = row_.fields[i];
      if (at >= f.begin && at <= f.begin + f.size) return schema_.fields[i].name;
    }
    return "";
  }

  // The row's key when its field was read whole (within `limit`) and is
  // valid UTF-8, else "line:<n>".
  std::string RejectKey(uint64_t line, const char* limit) const {
    if (key_index_ < static_cast<int>(row_.fields.size())) {
      const FieldRef& f = row_.fields[key_index_];
      if (f.size > 0 && f.begin + f.size <= limit &&
          FindInvalidUtf8({f.begin, f.size}) == std::string_view::npos) {
        return FieldText(f);
      }
    }
    return "line:" + std::to_string(line);
  }

  v1::Fate Reject(uint64_t line, std::string_view raw, const std::string& rule,
                  const std::string& reason) const {
    return ExtractReject(spec_.name, RejectKey(line, raw.data() + raw.size()), line, raw, rule,
                         reason);
  }

  void RejectFirstLine(const char* row_begin, uint64_t line, std::vector<v1::Fate>* rejects) {
    const char* next = NextLine(row_begin);
    const char* content_end = next;
    if (content_end > row_begin && content_end[-1] == '\n') --content_end;
    if (content_end > row_begin && content_end[-1] == '\r') --content_end;
    std::string reason;
    if (row_.error == RowError::kUnterminated) {
      reason = "unterminated quoted field";
    } else {
      std::string why = row_.error != RowError::kNone
                            ? ErrorText(row_)
                            : "wrong column count: expected " +
                                  std::to_string(schema_.fields.size()) + ", found " +
                                  std::to_string(row_.field_count);
      reason = "unbalanced quote: a quoted field runs from line " + std::to_string(line) +
               " to line " + std::to_string(line + row_.extra_lines) +
               " and the row is malformed (" + why + "); only line " + std::to_string(line) +
               " is rejected";
    }
    std::string_view raw(row_begin, content_end - row_begin);
    rejects->push_back(Reject(line, raw, "malformed_row", reason));
  }

  SourceSpec spec_;
  std::unique_ptr<CsvText> file_;
  char delimiter_;
  int quote_;  // -1: no quoting
  std::array<bool, 256> special_{};
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  const char* no_quote_from_ = nullptr;
  uint64_t data_begin_ = 0;  // file offset of the first data row (after the header)
  uint64_t data_line_ = 1;
  Schema schema_;
  int key_index_ = -1;
  const char* pos_ = nullptr;
  uint64_t line_ = 1;  // physical line at pos_
  RowScan row_;        // scratch, reused across rows
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<std::unique_ptr<Source>> OpenCsvSource(const SourceSpec& spec) {
  const std::string& at = spec.yaml_path;
  if (spec.Option("key").empty()) {
    return Status::InvalidArgument(at + ".key: required (the key column of the csv source)");
  }
  std::string delim = spec.Option("delimiter", ",");
  if (delim == "\\t" || Lower(delim) == "tab") delim = "\t";
  if (delim.size() != 1 || delim[0] == '\n' || delim[0] == '\r') {
    return Status::InvalidArgument(at + ".delimiter: must be one character, got '" + delim + "'");
  }
  std::string quote = spec.Option("quote", "\"");
  int quote_char = -1;
  if (quote.size() == 1) {
    quote_char = static_cast<unsigned char>(quote[0]);
  } else if (!quote.empty() && Lower(quote) != "none") {
    return Status::InvalidArgument(at + ".quote: must be one character or 'none', got '" + quote +
                                   "'");
  }
  if (quote_char == static_cast<unsigned char>(delim[0]) || quote_char == '\n' ||
      quote_char == '\r') {
    return Status::InvalidArgument(at + ".quote: must differ from the delimiter and line breaks");
  }
  std::string header = Lower(spec.Option("header", "true"));
  if (header != "true" && header != "false") {
    return Status::InvalidArgument(at + ".header: must be true or false, got '" + header + "'");
  }
  auto decoder = TextDecoder::Create(spec.Option("encoding"));
  if (!decoder.ok()) return decoder.status().WithContext(at + ".encoding");
  auto file = CsvText::Open(spec.path, *decoder);
  if (!file.ok()) return file.status().WithContext(at + ".path");
  auto source = std::make_unique<CsvSource>(spec, std::move(file).value(), delim[0], quote_char);
  SLUICE_RETURN_IF_ERROR(source->Init(header == "true"));
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace sluice
