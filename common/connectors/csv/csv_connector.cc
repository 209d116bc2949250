#include "common/connectors/csv/csv_connector.h"

#include "common/connectors/csv/csv_source.h"

namespace sluice::csv_connector {
namespace {

// The delimiter and quote are single characters; the header is a boolean,
// written back as "true"/"false", the spelling OpenCsvSource reads.
void CheckSource(ConnectorSettings& settings) {
  for (const char* key : {"delimiter", "quote"}) {
    auto it = settings.options().find(key);
    if (it != settings.options().end() && it->second.size() != 1) {
      settings.Issue(key, "must be a single character");
    }
  }
  (void)settings.Bool("header", "must be true or false");
}

}  // namespace

ConnectorPlugin Plugin() {
  ConnectorPlugin plugin;
  plugin.kind.name = "csv";
  plugin.kind.source = ConnectorRole{{"delimiter", "quote", "header", "encoding"}, CheckSource};
  plugin.open_source = OpenCsvSource;
  return plugin;
}

}  // namespace sluice::csv_connector
