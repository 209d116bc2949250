#pragma once
#include "common/connectors/connector.h"
namespace sluice {
// Fixed-width flat files (mainframe and ERP exports): one record per line,
// columns at fixed character positions given by `layout` (see
// fixed_width_layout.h). Options: key (the key column, required), layout
// (required), encoding ("utf-8"; windows-1252, cp037, ...), trim ("both"),
// record_type ("<column>=<value>[,<value>...]": only lines whose column
// holds one of the values are this source's records, the others are
// skipped, so one file of several record types feeds several sources),
// short_lines ("reject", or "pad": a line shorter than the layout is padded
// with blanks, for files whose trailing blanks were stripped). A line too
// short or not convertible is rejected with its line and reason. The file
// is read line by line; batches are byte ranges of it.
Result<std::unique_ptr<Source>> OpenFixedWidthSource(const SourceSpec& spec);
}  // namespace sluice
