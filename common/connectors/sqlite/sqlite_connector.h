// kind: sqlite, as registered (connector.h, ConnectorPlugin).
#pragma once

#include "common/connectors/connector.h"

namespace sluice::sqlite_connector {

// A source (`table` or `query`, the table checked to exist when the plan is
// parsed) and the embedded default target (`path` alone), with its DDL.
ConnectorPlugin Plugin();

}  // namespace sluice::sqlite_connector
