// The waves of a plan: which entities each loads, checked against the model
// and the mappings, and ordered parents first in dependency levels
// (docs/plan.md#waves, docs/consolidation.md).

#include <map>
#include <set>

#include "common/plan/plan_yaml.h"

namespace sluice::plan_yaml {
namespace {

// Orders a wave's entities parents first, in dependency levels (Kahn's
// algorithm, the plan's order within a level). Self-references do not order
// anything; a cycle (reported with the model) leaves its entities in plan
// order, in one last group.
void OrderWave(const Model& model, WaveSpec* wave) {
  const std::vector<std::string>& listed = wave->entities;
  std::set<std::string> in_wave(listed.begin(), listed.end());
  std::map<std::string, std::set<std::string>> parents;  // entity -> parents in this wave
  for (const std::string& name : listed) {
    parents[name];
    const Entity* entity = model.Find(name);
    for (size_t k = 0; entity != nullptr && k < entity->fields.size(); ++k) {
      const ModelField& f = entity->fields[k];
      if (f.type == FieldType::kReference && f.references != name && in_wave.count(f.references)) {
        parents[name].insert(f.references);
      }
    }
  }
  std::vector<std::string> order;
  std::vector<std::vector<std::string>> groups;
  std::set<std::string> placed;
  while (placed.size() < listed.size()) {
    std::vector<std::string> level;
    for (const std::string& name : listed) {
      if (placed.count(name)) continue;
      bool ready = true;
      for (const std::string& p : parents[name]) ready = ready && placed.count(p);
      if (ready) level.push_back(name);
    }
    if (level.empty()) {  // a cycle
      for (const std::string& name : listed) {
        if (!placed.count(name)) level.push_back(name);
      }
    }
    for (const std::string& name : level) {
      placed.insert(name);
      order.push_back(name);
    }
    groups.push_back(std::move(level));
  }
  wave->entities = std::move(order);
  wave->groups = std::move(groups);
  wave->parents.clear();
  for (const auto& [name, of] : parents) wave->parents[name].assign(of.begin(), of.end());
}

}  // namespace

void ParseWaves(const YAML::Node& root, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  Plan& plan = *ctx->plan;
  YAML::Node waves = Get(root, "waves");
  if (!waves.IsDefined()) {
    AddIssue(issues, "waves", "missing");
    return;
  }
  if (!plan_yaml::ExpectList(waves, "waves", issues)) return;
  if (waves.size() == 0) {
    AddIssue(issues, "waves", "must list at least one wave");
    return;
  }
  std::map<std::string, size_t> wave_of;       // entity -> wave index
  std::map<std::string, std::string> path_of;  // entity -> its yaml path in waves
  std::set<std::string> names;
  for (size_t i = 0; i < waves.size(); ++i) {
    const std::string path = Item("waves", i);
    WaveSpec wave;
    wave.name = "wave" + std::to_string(i + 1);
    const YAML::Node& node = waves[i];
    if (plan_yaml::ExpectMap(node, path, issues)) {
      plan_yaml::CheckKeys(node, path, {"name", "entities"}, issues);
      wave.name =
          plan_yaml::ReadText(node, "name", path, Need::kOptional, issues).value_or(wave.name);
      auto entities =
          plan_yaml::ReadTextList(node, "entities", path, Need::kRequired, false, issues);
      if (entities && entities->empty()) {
        AddIssue(issues, Child(path, "entities"), "must not be empty");
      }
      for (size_t j = 0; entities && j < entities->size(); ++j) {
        const std::string& e = (*entities)[j];
        const std::string at = Item(Child(path, "entities"), j);
        auto [it, fresh] = wave_of.emplace(e, i);
        if (!fresh) {
          AddIssue(issues, at,
                   "entity '" + e + "' is already in wave '" + plan.waves[it->second].name + "'");
          continue;
        }
        path_of.emplace(e, at);
        ctx->FindEntity(e, at);
        wave.entities.push_back(e);
      }
    }
    if (!names.insert(wave.name).second) {
      AddIssue(issues, Child(path, "name"), "duplicate wave name '" + wave.name + "'");
    }
    plan.waves.push_back(std::move(wave));
  }
  // Parents load before children: a reference may point to the same or an
  // earlier wave (the order inside a wave follows the references).
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    for (const std::string& name : plan.waves[i].entities) {
      const Entity* entity = plan.model.Find(name);
      for (size_t k = 0; entity != nullptr && k < entity->fields.size(); ++k) {
        const ModelField& f = entity->fields[k];
        auto parent = wave_of.find(f.references);
        if (f.type == FieldType::kReference && parent != wave_of.end() && parent->second > i) {
          AddIssue(issues, path_of[name],
                   "entity '" + name + "' references '" + f.references +
                       "', which loads in a later wave");
        }
      }
    }
  }
  for (WaveSpec& wave : plan.waves) OrderWave(plan.model, &wave);
  std::set<std::string> reported;
  for (const Mapping& m : plan.mappings) {
    if (m.entity.empty() || wave_of.count(m.entity) || !reported.insert(m.entity).second) continue;
    if (ctx->model_loaded && plan.model.Find(m.entity) == nullptr) continue;  // reported
    AddIssue(issues, "waves", "entity '" + m.entity + "' has mappings but is in no wave");
  }
}

}  // namespace sluice::plan_yaml
