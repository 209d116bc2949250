#include "coordinator/roster.h"

#include <algorithm>

#include "common/core/stage.h"

namespace sluice::coordination {

Roster::Roster(const std::map<std::string, uint32_t>& replicas, RosterOptions options)
    : options_(options) {
  for (std::string_view name : Roles()) {
    const std::string role(name);
    uint32_t n = replicas.count(role) ? replicas.at(role) : 1;
    if (role == "reconciler") n = 1;
    for (uint32_t i = 0; i < n; ++i) {
      Worker w;
      w.role = role;
      w.ordinal = i;
      w.identity = role + "-" + std::to_string(i);
      workers_[w.identity] = w;
    }
  }
}

Worker* Roster::Find(const std::string& identity) {
  auto it = workers_.find(identity);
  return it == workers_.end() ? nullptr : &it->second;
}

const Worker* Roster::Find(const std::string& identity) const {
  auto it = workers_.find(identity);
  return it == workers_.end() ? nullptr : &it->second;
}

Roster::Registration Roster::Classify(const std::string& identity, const v1::Register& reg) const {
  const Worker* w = Find(identity);
  if (w == nullptr) return Registration::kUnknown;
  if (!w->alive) return Registration::kNew;
  if (w->pid != reg.pid()) return Registration::kReplacesLive;
  // The same process again: before its reply (it retries until answered)
  // it is taken afresh, after it the reply is sent again.
  return w->replied ? Registration::kRetry : Registration::kNew;
}

bool Roster::Admit(const std::string& identity, const v1::Register& reg, Registration how,
                   Clock::TimePoint now, const std::string& key) {
  Worker* w = Find(identity);
  if (w == nullptr) return false;
  const bool restart = w->generation > 0 || how == Registration::kReplacesLive;
  w->pid = reg.pid();
  w->alive = true;
  w->replied = false;
  w->last_seen = now;
  if (!reg.data_endpoint().empty()) w->endpoint = reg.data_endpoint();
  w->member_endpoint = reg.dedup_peer_endpoint();
  w->key = key;
  w->host = reg.host();
  return restart;
}

void Roster::MarkReplied(const std::string& identity) {
  if (Worker* w = Find(identity)) w->replied = true;
}

void Roster::SetPid(const std::string& identity, uint32_t pid) {
  if (Worker* w = Find(identity)) w->pid = pid;
}

bool Roster::AllRegistered() const {
  for (const auto& [id, w] : workers_) {
    if (!w.alive) return false;
  }
  return true;
}

std::string Roster::Missing() const {
  std::string s;
  for (const auto& [id, w] : workers_) {
    if (!w.alive) s += (s.empty() ? "" : ", ") + id;
  }
  return s;
}

void Roster::Seen(const std::string& identity, Clock::TimePoint now) {
  if (Worker* w = Find(identity)) w->last_seen = now;
}

int Roster::Liveness(const Worker& worker, Clock::TimePoint now) const {
  const auto left = options_.worker_timeout - (now - worker.last_seen);
  const auto beat = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.heartbeat);
  if (left <= decltype(left)::zero() || beat.count() <= 0) return 0;
  // A part of a heartbeat left counts as one.
  return static_cast<int>((left + beat - std::chrono::nanoseconds(1)) / beat);
}

std::vector<std::string> Roster::Silent(Clock::TimePoint now) const {
  std::vector<std::string> silent;
  for (const auto& [id, w] : workers_) {
    if (w.alive && now - w.last_seen > options_.worker_timeout) silent.push_back(id);
  }
  return silent;
}

void Roster::Excuse(Clock::Duration deaf, Clock::TimePoint now) {
  for (auto& [id, w] : workers_) {
    if (w.alive) w.last_seen = std::min(now, w.last_seen + deaf);
  }
}

bool Roster::WriteOff(const std::string& identity) {
  Worker* w = Find(identity);
  if (w == nullptr || !w->alive) return false;
  w->alive = false;
  w->replied = false;
  return true;
}

int Roster::NextGeneration(const std::string& identity) {
  Worker* w = Find(identity);
  return w == nullptr ? 0 : ++w->generation;
}

std::vector<const Worker*> Roster::Ready(const std::string& to) const {
  std::vector<const Worker*> ready;
  for (const auto& [id, w] : workers_) {
    if ((w.role == to || w.identity == to) && w.alive && w.replied) ready.push_back(&w);
  }
  return ready;
}

std::vector<std::string> Roster::Alive(const std::string& role) const {
  std::vector<std::string> alive;
  for (const auto& [id, w] : workers_) {
    if (w.alive && (role.empty() || w.role == role)) alive.push_back(id);
  }
  return alive;
}

std::vector<std::string> Roster::UpstreamEndpoints(const std::string& role) const {
  std::vector<std::string> endpoints;
  for (const Worker* w : Upstream(role)) endpoints.push_back(w->endpoint);
  return endpoints;
}

std::vector<const Worker*> Roster::Upstream(const std::string& role) const {
  const std::string_view up = UpstreamRole(role);
  std::vector<const Worker*> upstream;
  if (up.empty()) return upstream;
  for (const auto& [id, w] : workers_) {
    if (w.role == up && !w.endpoint.empty()) upstream.push_back(&w);
  }
  return upstream;
}

v1::PeerKeys Roster::PeerKeys() const {
  v1::PeerKeys peers;
  for (const auto& [id, w] : workers_) {
    if (w.key.empty()) continue;
    auto* p = peers.add_keys();
    p->set_identity(id);
    p->set_public_key(w.key);
  }
  return peers;
}

std::vector<std::string> Roster::MemberEndpoints(uint32_t shards) const {
  return DedupShardField(shards, &Worker::member_endpoint);
}

std::vector<std::string> Roster::MemberKeys(uint32_t shards) const {
  return DedupShardField(shards, &Worker::key);
}

std::vector<std::string> Roster::DedupShardField(uint32_t shards,
                                                 std::string Worker::*field) const {
  std::vector<std::string> values(shards);
  for (const auto& [id, w] : workers_) {
    if (w.role == "deduper" && w.ordinal < shards) values[w.ordinal] = w.*field;
  }
  return values;
}

}  // namespace sluice::coordination
