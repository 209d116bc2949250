// CSV source rows: any bytes, under a few dialects. The first byte chooses
// the delimiter, the quote, whether there is a header and the batch size.
#include <cstddef>
#include <cstdint>

#include "common/connectors/csv/csv_source.h"
#include "fuzz/source_check.h"

namespace sluice::fuzz {
namespace {

// The key column: the header's first name as written (quotes dropped), or
// c1 without a header.
std::string FirstColumn(std::string_view text, char delimiter, bool header) {
  if (!header) return "c1";
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t end = text.find_first_of(std::string{delimiter, '\n', '\r'});
  std::string name(text.substr(0, end));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  return name.empty() ? "id" : name;
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size < 1) return 0;
  const uint8_t options = data[0];
  static const char kDelimiters[] = {',', ';', '\t', '|'};
  static const char* const kQuotes[] = {"\"", "'", "none", "\""};
  const char delimiter = kDelimiters[options & 3];
  const bool header = (options & 16) == 0;
  const size_t max_rows = 1 + ((options >> 5) & 7);
  fuzz::MemFile file(data + 1, size - 1);
  SourceSpec spec;
  spec.name = "crm";
  spec.kind = "csv";
  spec.path = file.path();
  spec.yaml_path = "sources.crm";
  spec.options["delimiter"] = std::string(1, delimiter);
  spec.options["quote"] = kQuotes[(options >> 2) & 3];
  spec.options["header"] = header ? "true" : "false";
  spec.options["key"] = fuzz::FirstColumn(
      std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), delimiter, header);
  auto source = OpenCsvSource(spec);
  if (!source.ok()) return 0;
  fuzz::ReadAndReread(**source, max_rows, size);
  return 0;
}
