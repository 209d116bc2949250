// The one registration point of connector plug-ins: the kinds listed in
// SLUICE_CONNECTOR_KINDS (common/connectors/CMakeLists.txt), each as its
// folder registers it (<kind>/<kind>_connector.cc). registry_kinds.h is
// generated from that list.
#include "common/connectors/connector.h"
#include "registry_kinds.h"

namespace sluice {
namespace {

const std::vector<ConnectorPlugin>& Plugins() {
  static const auto* const kPlugins = new std::vector<ConnectorPlugin>(ConnectorPlugins());
  return *kPlugins;
}

const ConnectorPlugin* Find(const std::string& kind) {
  for (const ConnectorPlugin& p : Plugins()) {
    if (p.kind.name == kind) return &p;
  }
  return nullptr;
}

std::string Listed(const std::vector<std::string>& kinds) {
  std::string out;
  for (const std::string& k : kinds) out += (out.empty() ? "" : ", ") + k;
  return out;
}

}  // namespace

const ConnectorCatalog& BuiltinConnectors() {
  static const auto* const kCatalog = [] {
    std::vector<ConnectorKind> kinds;
    for (const ConnectorPlugin& p : Plugins()) kinds.push_back(p.kind);
    return new ConnectorCatalog(std::move(kinds));
  }();
  return *kCatalog;
}

Result<std::unique_ptr<Source>> OpenSource(const SourceSpec& spec) {
  const ConnectorPlugin* p = Find(spec.kind);
  if (p == nullptr || !p->open_source) {
    return Status::InvalidArgument(spec.yaml_path + ".kind: unknown source kind '" + spec.kind +
                                   "' (known: " + Listed(SourceKinds()) + ")");
  }
  return p->open_source(spec);
}

Result<std::unique_ptr<Target>> OpenTarget(const TargetSpec& spec) {
  const ConnectorPlugin* p = Find(spec.kind);
  if (p == nullptr || !p->open_target) {
    return Status::InvalidArgument(spec.yaml_path + ".kind: unknown target kind '" + spec.kind +
                                   "' (known: " + Listed(TargetKinds()) + ")");
  }
  return p->open_target(spec);
}

std::vector<std::string> SourceKinds() { return BuiltinConnectors().SourceKinds(); }

std::vector<std::string> TargetKinds() { return BuiltinConnectors().TargetKinds(); }

std::vector<std::string> DdlTargetKinds() {
  std::vector<std::string> out;
  for (const std::string& kind : TargetKinds()) {
    if (Find(kind)->ddl) out.push_back(kind);
  }
  return out;
}

Result<std::string> TargetDdl(const Model& model, const TargetSpec& spec) {
  const ConnectorPlugin* p = Find(spec.kind);
  if (p == nullptr || !p->open_target || !p->ddl) {
    return Status::InvalidArgument("unknown target kind '" + spec.kind +
                                   "' (with DDL: " + Listed(DdlTargetKinds()) + ")");
  }
  std::string out = "-- sluice model, content hash " + model.content_hash + "\n";
  for (const Entity& e : model.entities) out += p->ddl(e, spec) + ";\n";
  return out;
}

}  // namespace sluice
