#include "common/connectors/jsonl/jsonl_connector.h"

#include "common/connectors/jsonl/jsonl_source.h"

namespace sluice::jsonl_connector {

ConnectorPlugin Plugin() {
  ConnectorPlugin plugin;
  plugin.kind.name = "jsonl";
  plugin.kind.source = ConnectorRole{{"encoding"}, {}};
  plugin.open_source = OpenJsonlSource;
  return plugin;
}

}  // namespace sluice::jsonl_connector
