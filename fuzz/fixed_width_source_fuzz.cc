// Fixed-width flat files: any bytes. The first byte chooses the batch size
// (bits 0-2), the encoding (bits 3-4: UTF-8, windows-1252, cp037 with its NL
// line ends, cp850), short lines padded or rejected (bit 5) and a record
// type filter on the first column (bit 6) and, with bit 7, a mainframe
// dataset: 24-byte records without line ends whose last columns are COBOL
// packed (COMP-3) and zoned decimals. The layout is fixed: type 1, id 4,
// name 8, then city 6 or balance 5 packed:2 and quantity 6 zoned.
#include <cstddef>
#include <cstdint>

#include "common/connectors/fixed_width/fixed_width_source.h"
#include "fuzz/source_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size < 1) return 0;
  static const char* const kEncodings[] = {"", "windows-1252", "cp037", "cp850"};
  const size_t max_rows = 1 + (data[0] & 7);
  fuzz::MemFile file(data + 1, size - 1);
  SourceSpec spec;
  spec.name = "mainframe";
  spec.kind = "fixed_width";
  spec.path = file.path();
  spec.yaml_path = "sources.mainframe";
  spec.options["key"] = "id";
  if (data[0] & 128) {
    spec.options["record_length"] = "24";
    spec.options["layout"] = "type 1\nid 4\nname 8\nbalance 5 packed:2\nquantity 6 zoned\n";
  } else {
    spec.options["layout"] = "type 1\nid 4\nname 8\ncity 6\n";
  }
  if (const char* encoding = kEncodings[(data[0] >> 3) & 3]; *encoding) {
    spec.options["encoding"] = encoding;
  }
  spec.options["short_lines"] = (data[0] & 32) ? "pad" : "reject";
  if (data[0] & 64) spec.options["record_type"] = "type=D";
  auto source = OpenFixedWidthSource(spec);
  if (!source.ok()) return 0;
  fuzz::ReadAndReread(**source, max_rows, size);
  return 0;
}
