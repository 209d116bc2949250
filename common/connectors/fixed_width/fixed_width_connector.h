#pragma once
#include "common/connectors/connector.h"
namespace sluice::fixed_width_connector {
// kind: fixed_width (fixed_width_source.h).
ConnectorPlugin Plugin();
}  // namespace sluice::fixed_width_connector
