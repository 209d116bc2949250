// kind: jsonl, as registered (connector.h, ConnectorPlugin).
#pragma once

#include "common/connectors/connector.h"

namespace sluice::jsonl_connector {

// A source only, with no keys beyond those every source has (jsonl_source.h).
ConnectorPlugin Plugin();

}  // namespace sluice::jsonl_connector
