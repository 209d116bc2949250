// kind: postgres, as registered (connector.h, ConnectorPlugin).
#pragma once

#include "common/connectors/connector.h"

namespace sluice::postgres_connector {

// A server kind (`dsn`, no `path`): a source (`table` or `query`) and a
// target (schema, rate limit, retry bounds: postgres_target.h), with its DDL.
ConnectorPlugin Plugin();

}  // namespace sluice::postgres_connector
