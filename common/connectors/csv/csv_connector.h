// kind: csv, as registered (connector.h, ConnectorPlugin).
#pragma once

#include "common/connectors/connector.h"

namespace sluice::csv_connector {

// A source only: keys delimiter, quote, header, encoding (csv_source.h).
ConnectorPlugin Plugin();

}  // namespace sluice::csv_connector
