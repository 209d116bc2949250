#include "common/connectors/fixed_width/fixed_width_connector.h"

#include "common/connectors/fixed_width/fixed_width_layout.h"
#include "common/connectors/fixed_width/fixed_width_source.h"
#include "common/connectors/text/text_decoder.h"

namespace sluice::fixed_width_connector {
namespace {

// What can be known without the file: the layout parses and holds the key,
// the encoding exists, trim and short_lines are spelled right. The record
// type's column is checked against the layout when the source opens.
void CheckSource(ConnectorSettings& settings) {
  const auto& options = settings.options();
  auto get = [&](const char* key) {
    auto it = options.find(key);
    return it == options.end() ? std::string() : it->second;
  };
  auto layout = FixedWidthLayout::Parse(get("layout"));
  if (!options.count("layout")) {
    settings.Issue("layout", "required (one column per line: name start length, or name width)");
  } else if (!layout.ok()) {
    settings.Issue("layout", layout.status().message());
  } else {
    if (options.count("key") && layout->IndexOf(get("key")) < 0) {
      settings.Issue("key", layout->NotInLayout(get("key")));
    }
    if (auto length = ParseRecordLength(get("record_length"), *layout); !length.ok()) {
      settings.Issue("record_length", length.status().message());
    }
  }
  if (!options.count("key")) settings.Issue("key", "required (a column of the layout)");
  if (auto decoder = TextDecoder::Create(get("encoding")); !decoder.ok()) {
    settings.Issue("encoding", decoder.status().message());
  }
  if (auto trim = ParseFixedWidthTrim(get("trim")); !trim.ok()) {
    settings.Issue("trim", trim.status().message());
  }
  if (std::string s = get("short_lines"); !s.empty() && s != "reject" && s != "pad") {
    settings.Issue("short_lines", "must be reject or pad, got '" + s + "'");
  }
}

}  // namespace

ConnectorPlugin Plugin() {
  ConnectorPlugin plugin;
  plugin.kind.name = "fixed_width";
  plugin.kind.source = ConnectorRole{
      {"layout", "encoding", "trim", "record_type", "short_lines", "record_length"}, CheckSource};
  plugin.open_source = OpenFixedWidthSource;
  return plugin;
}

}  // namespace sluice::fixed_width_connector
