#include "common/plan/connector_catalog.h"

#include <algorithm>

namespace sluice {

ConnectorCatalog::ConnectorCatalog(std::vector<ConnectorKind> kinds) {
  for (ConnectorKind& kind : kinds) {
    bool seen = false;
    for (const ConnectorKind& k : kinds_) seen = seen || k.name == kind.name;
    if (!seen) kinds_.push_back(std::move(kind));
  }
  std::sort(kinds_.begin(), kinds_.end(),
            [](const ConnectorKind& a, const ConnectorKind& b) { return a.name < b.name; });
}

const ConnectorKind* ConnectorCatalog::FindSource(std::string_view name) const {
  for (const ConnectorKind& k : kinds_) {
    if (k.name == name && k.source) return &k;
  }
  return nullptr;
}

const ConnectorKind* ConnectorCatalog::FindTarget(std::string_view name) const {
  for (const ConnectorKind& k : kinds_) {
    if (k.name == name && k.target) return &k;
  }
  return nullptr;
}

std::vector<const ConnectorKind*> ConnectorCatalog::Sources() const {
  std::vector<const ConnectorKind*> out;
  for (const ConnectorKind& k : kinds_) {
    if (k.source) out.push_back(&k);
  }
  return out;
}

std::vector<const ConnectorKind*> ConnectorCatalog::Targets() const {
  std::vector<const ConnectorKind*> out;
  for (const ConnectorKind& k : kinds_) {
    if (k.target) out.push_back(&k);
  }
  return out;
}

std::vector<std::string> ConnectorCatalog::SourceKinds() const {
  std::vector<std::string> out;
  for (const ConnectorKind* k : Sources()) out.push_back(k->name);
  return out;
}

std::vector<std::string> ConnectorCatalog::TargetKinds() const {
  std::vector<std::string> out;
  for (const ConnectorKind* k : Targets()) out.push_back(k->name);
  return out;
}

}  // namespace sluice
