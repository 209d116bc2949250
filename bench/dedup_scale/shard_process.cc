#include "bench/dedup_scale/shard_process.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "common/runtime/codec.h"
#include "deduper/dedup.h"
#include "deduper/guest_rows.h"
#include "deduper/shard_preround.h"

namespace sluice::bench {
namespace {

// A message is a list of byte strings: u32 count, then per part u64 length
// and the bytes. The first part names the command (or "OK" / "ERR").
using Parts = std::vector<std::string>;

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool ReadAll(int fd, char* data, size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, data, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Written part by part: a round's messages (every shard's summaries,
// counts and edges) go to every shard as they are, never copied into one
// frame per shard.
Status Send(int fd, const Parts& parts) {
  const uint32_t count = static_cast<uint32_t>(parts.size());
  bool ok = WriteAll(fd, reinterpret_cast<const char*>(&count), 4);
  for (size_t i = 0; ok && i < parts.size(); ++i) {
    const uint64_t len = parts[i].size();
    ok = WriteAll(fd, reinterpret_cast<const char*>(&len), 8) &&
         WriteAll(fd, parts[i].data(), parts[i].size());
  }
  if (!ok) return Status::IoError(std::string("shard pipe: write: ") + std::strerror(errno));
  return Status::Ok();
}

Result<Parts> Receive(int fd) {
  uint32_t count = 0;
  if (!ReadAll(fd, reinterpret_cast<char*>(&count), 4)) {
    return Status::IoError("shard pipe: closed");
  }
  Parts parts(count);
  for (std::string& p : parts) {
    uint64_t len = 0;
    if (!ReadAll(fd, reinterpret_cast<char*>(&len), 8)) return Status::IoError("shard pipe: torn");
    p.resize(len);
    if (len > 0 && !ReadAll(fd, p.data(), len)) return Status::IoError("shard pipe: torn");
  }
  return parts;
}

// The child's answer: "OK" and the payload, or "ERR" and the message.
Result<Parts> ReceiveReply(int fd) {
  SLUICE_ASSIGN_OR_RETURN(Parts parts, Receive(fd));
  if (parts.empty()) return Status::Internal("shard pipe: empty reply");
  if (parts[0] == "ERR") return Status::Internal(parts.size() > 1 ? parts[1] : "shard failed");
  parts.erase(parts.begin());
  return parts;
}

std::string Serialized(const google::protobuf::Message& m) { return m.SerializeAsString(); }

template <typename Proto>
Result<Proto> Parsed(const std::string& bytes) {
  Proto p;
  if (!p.ParseFromString(bytes)) return Status::Corruption("shard pipe: bad message");
  return p;
}

// Shard map and summaries travel as: count of shards, self, then the
// serialized summaries.
void PutMap(const ShardMap& map, Parts* parts) {
  parts->push_back(std::to_string(map.count()));
  parts->push_back(std::to_string(map.self()));
}

void PutAll(const std::vector<std::string>& all, Parts* parts) {
  parts->push_back(std::to_string(all.size()));
  for (const std::string& p : all) parts->push_back(p);
}

template <typename Proto>
Result<std::vector<Proto>> TakeAll(const Parts& parts, size_t* at) {
  const size_t n = std::stoul(parts.at((*at)++));
  std::vector<Proto> out;
  for (size_t i = 0; i < n; ++i) {
    SLUICE_ASSIGN_OR_RETURN(Proto p, Parsed<Proto>(parts.at((*at)++)));
    out.push_back(std::move(p));
  }
  return out;
}

Parts OutcomeParts(const Resolution& r) {
  uint64_t merged = 0, review = 0;
  for (const v1::Fate& f : r.fates) {
    merged += f.kind() == v1::FATE_MERGED;
    review += f.kind() == v1::FATE_REVIEW;
  }
  const MatchStats& st = r.stats;
  char numbers[256];
  std::snprintf(numbers, sizeof numbers, "%llu %llu %llu %llu %llu %llu %llu %.6f %.6f",
                (unsigned long long)r.in, (unsigned long long)st.comparisons,
                (unsigned long long)st.merge, (unsigned long long)st.review,
                (unsigned long long)st.distinct, (unsigned long long)merged,
                (unsigned long long)review, st.compare_seconds, st.compare_cpu_seconds);
  std::string notes;
  for (const std::string& n : st.notes) notes += n + '\n';
  Parts parts = {"OK", numbers, notes};
  for (const RecordBatch& b : r.batches) {
    for (const Record& rec : b.records) {
      if (rec.merged.empty()) continue;
      std::string names = rec.source + ':' + rec.key;
      for (const SourceKey& m : rec.merged) names += '\n' + m.source + ':' + m.key;
      parts.push_back(std::move(names));
    }
  }
  return parts;
}

ShardMap MapOf(const Parts& parts, size_t* at) {
  const uint32_t count = static_cast<uint32_t>(std::stoul(parts.at((*at)++)));
  const uint32_t self = static_cast<uint32_t>(std::stoul(parts.at((*at)++)));
  return ShardMap(count, self);
}

uint64_t PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

// With SLUICE_BENCH_RSS set, each shard prints its RSS and peak around
// every command but ingest (stderr), and the CPU time the command took
// (ingest summed, printed before the first other command): where in the
// resolve memory and CPU go.
void TraceRss(const char* when, const std::string& command) {
  static double start = 0, ingest = 0;
  static bool ingest_shown = false;
  if (std::getenv("SLUICE_BENCH_RSS") == nullptr) return;
  const bool before = std::strcmp(when, "before") == 0;
  if (command == "ingest") {
    if (before)
      start = CpuSeconds();
    else
      ingest += CpuSeconds() - start;
    return;
  }
  if (before && !ingest_shown) {
    ingest_shown = true;
    std::fprintf(stderr, "[shard pid %d] ingest: cpu %.2f s\n", static_cast<int>(getpid()), ingest);
  }
  std::string cpu;
  if (before) {
    start = CpuSeconds();
  } else {
    char buf[64];
    std::snprintf(buf, sizeof buf, ", cpu %.2f s", CpuSeconds() - start);
    cpu = buf;
  }
  std::ifstream status("/proc/self/status");
  std::string line, rss, peak;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = line.substr(6);
    if (line.rfind("VmHWM:", 0) == 0) peak = line.substr(6);
  }
  std::fprintf(stderr, "[shard pid %d] %s %s: rss%s, peak%s%s\n", static_cast<int>(getpid()), when,
               command.c_str(), rss.c_str(), peak.c_str(), cpu.c_str());
}

// One command of the child's loop.
Result<Parts> Serve(DedupShard& shard, Parts& cmd) {
  const std::string& what = cmd.at(0);
  size_t at = 1;
  v1::BatchId id;
  id.set_run_id("scale");
  id.set_entity("hcp");
  if (what == "ingest") {
    SLUICE_ASSIGN_OR_RETURN(v1::RecordBatch wire, Parsed<v1::RecordBatch>(cmd.at(1)));
    SLUICE_ASSIGN_OR_RETURN(RecordBatch batch, DecodeBatch(wire));
    SLUICE_RETURN_IF_ERROR(shard.IngestReceived(std::move(batch), wire).status());
    return Parts{"OK"};
  }
  if (what == "resolve") {
    id.set_source("dedup/0");
    SLUICE_ASSIGN_OR_RETURN(Resolution r, shard.Resolve(id, 4096));
    return OutcomeParts(r);
  }
  const ShardMap map = MapOf(cmd, &at);
  if (what == "summarize") {
    SLUICE_ASSIGN_OR_RETURN(v1::DedupBlocks b, shard.SummarizeBlocks(map));
    return Parts{"OK", Serialized(b)};
  }
  if (what == "claim") {
    SLUICE_ASSIGN_OR_RETURN(auto claims, preround::ClaimBlocks(shard, map));
    Parts out = {"OK"};
    for (const v1::DedupKeyClaims& c : claims) {
      out.push_back(std::to_string(c.owner()));
      out.push_back(Serialized(c));
    }
    return out;
  }
  if (what == "want") {
    SLUICE_ASSIGN_OR_RETURN(auto claims, TakeAll<v1::DedupKeyClaims>(cmd, &at));
    SLUICE_ASSIGN_OR_RETURN(v1::DedupGuestWants w, preround::WantGuests(shard, map, claims));
    return Parts{"OK", Serialized(w)};
  }
  if (what == "guests_for") {
    SLUICE_ASSIGN_OR_RETURN(auto wants, TakeAll<v1::DedupGuestWants>(cmd, &at));
    SLUICE_ASSIGN_OR_RETURN(auto by_owner, preround::GuestsFor(shard, map, wants));
    Parts out = {"OK"};
    // Each batch's rows moved into its wire form and let go of once
    // serialized: one copy of the rows at a time beside the answer.
    for (auto& [owner, rows] : by_owner) {
      for (RecordBatch& b : rows) {
        out.push_back(std::to_string(owner) + ' ' + std::to_string(guest::Count(b.guest_rows)));
        std::string guest_rows = std::move(b.guest_rows);
        v1::RecordBatch wire;
        EncodeBatch(b, &wire);
        wire.set_guest_rows(std::move(guest_rows));
        out.push_back(Serialized(wire));
      }
      std::vector<RecordBatch>().swap(rows);
    }
    return out;
  }
  if (what == "take_guests") {
    // Part by part, each let go of once decoded: one copy of the rows.
    const size_t count = std::stoul(cmd.at(at++));
    std::vector<RecordBatch> guests;
    for (size_t i = 0; i < count; ++i, ++at) {
      SLUICE_ASSIGN_OR_RETURN(v1::RecordBatch wire, Parsed<v1::RecordBatch>(cmd.at(at)));
      std::string().swap(cmd[at]);
      std::string rows = std::move(*wire.mutable_guest_rows());
      wire.clear_guest_rows();
      SLUICE_ASSIGN_OR_RETURN(RecordBatch b, DecodeBatch(wire));
      b.guest_rows = std::move(rows);
      guests.push_back(std::move(b));
    }
    SLUICE_RETURN_IF_ERROR(preround::TakeGuests(shard, std::move(guests)));
    return Parts{"OK"};
  }
  SLUICE_ASSIGN_OR_RETURN(auto blocks, TakeAll<v1::DedupBlocks>(cmd, &at));
  if (what == "compare") {
    SLUICE_ASSIGN_OR_RETURN(v1::DedupPatterns p, shard.ComparePairs(map, blocks));
    return Parts{"OK", Serialized(p)};
  }
  if (what == "decide") {
    SLUICE_ASSIGN_OR_RETURN(auto patterns, TakeAll<v1::DedupPatterns>(cmd, &at));
    SLUICE_ASSIGN_OR_RETURN(v1::DedupEdges e, shard.DecidePairs(map, blocks, patterns));
    return Parts{"OK", Serialized(e)};
  }
  SLUICE_ASSIGN_OR_RETURN(v1::DedupEdges all, Parsed<v1::DedupEdges>(cmd.at(at++)));
  if (what == "members") {
    SLUICE_ASSIGN_OR_RETURN(auto serve, shard.MembersFor(map, all));
    Parts out = {"OK"};
    for (const auto& [to, batch] : serve) {
      v1::RecordBatch wire;
      EncodeBatch(batch, &wire);
      out.push_back(std::to_string(to) + ' ' + std::to_string(batch.records.size()));
      out.push_back(Serialized(wire));
    }
    return out;
  }
  if (what == "resolve_with") {
    std::map<uint32_t, std::vector<Record>> members;
    while (at + 1 < cmd.size()) {
      const uint32_t from = static_cast<uint32_t>(std::stoul(cmd[at++]));
      SLUICE_ASSIGN_OR_RETURN(v1::RecordBatch wire, Parsed<v1::RecordBatch>(cmd[at++]));
      SLUICE_ASSIGN_OR_RETURN(RecordBatch batch, DecodeBatch(wire));
      members[from] = std::move(batch.records);
    }
    auto fetch = [&](uint32_t peer) -> Result<std::vector<Record>> {
      auto it = members.find(peer);
      return it == members.end() ? std::vector<Record>{} : std::move(it->second);
    };
    id.set_source("dedup/" + std::to_string(map.self()));
    SLUICE_ASSIGN_OR_RETURN(Resolution r, shard.ResolveWith(map, blocks, all, fetch, id, 4096));
    return OutcomeParts(r);
  }
  return Status::InvalidArgument("shard pipe: unknown command " + what);
}

[[noreturn]] void ChildMain(int fd, const Plan& plan, const std::string& entity,
                            const std::string& log_path) {
  auto shard = DedupShard::Create(plan, entity, log_path);
  for (;;) {
    Result<Parts> cmd = Receive(fd);
    if (!cmd.ok() || cmd->empty()) _exit(1);
    if ((*cmd)[0] == "finish") {
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      const double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                         ru.ru_stime.tv_usec / 1e6;
      (void)Send(fd, {"OK", std::to_string(PeakRssKb()), std::to_string(cpu)});
      _exit(0);
    }
    TraceRss("before", (*cmd)[0]);
    Result<Parts> reply = shard.ok() ? Serve(**shard, *cmd) : Result<Parts>(shard.status());
    TraceRss("after", (*cmd)[0]);
    Status st = reply.ok() ? Send(fd, *reply) : Send(fd, {"ERR", reply.status().ToString()});
    if (!st.ok()) _exit(1);
  }
}

}  // namespace

Result<ShardProcess> ShardProcess::Spawn(const Plan& plan, const std::string& entity,
                                         const std::string& log_path) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
    return Status::IoError(std::string("socketpair: ") + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) return Status::IoError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    ChildMain(fds[1], plan, entity, log_path);
  }
  ::close(fds[1]);
  ShardProcess p;
  p.fd_ = fds[0];
  p.pid_ = pid;
  return p;
}

Status ShardProcess::SendIngest(const RecordBatch& batch) {
  v1::RecordBatch wire;
  EncodeBatch(batch, &wire);
  return Send(fd_, {"ingest", Serialized(wire)});
}

Status ShardProcess::ReceiveAck() { return ReceiveReply(fd_).status(); }

Status ShardProcess::SendResolve() { return Send(fd_, {"resolve"}); }

Result<ShardOutcome> ShardProcess::ReceiveOutcome() {
  SLUICE_ASSIGN_OR_RETURN(Parts parts, ReceiveReply(fd_));
  if (parts.size() < 2) return Status::Internal("shard pipe: short outcome");
  ShardOutcome o;
  unsigned long long v[7] = {};
  if (std::sscanf(parts[0].c_str(), "%llu %llu %llu %llu %llu %llu %llu %lf %lf", &v[0], &v[1],
                  &v[2], &v[3], &v[4], &v[5], &v[6], &o.compare_seconds,
                  &o.compare_cpu_seconds) != 9) {
    return Status::Corruption("shard pipe: bad outcome");
  }
  o.in = v[0];
  o.comparisons = v[1];
  o.merge = v[2];
  o.review = v[3];
  o.distinct = v[4];
  o.merged_records = v[5];
  o.review_records = v[6];
  size_t start = 0;
  for (size_t nl; (nl = parts[1].find('\n', start)) != std::string::npos; start = nl + 1) {
    o.notes.push_back(parts[1].substr(start, nl - start));
  }
  for (size_t i = 2; i < parts.size(); ++i) {
    std::vector<std::string>& names = o.clusters.emplace_back();
    size_t from = 0;
    for (size_t nl; (nl = parts[i].find('\n', from)) != std::string::npos; from = nl + 1) {
      names.push_back(parts[i].substr(from, nl - from));
    }
    names.push_back(parts[i].substr(from));
  }
  return o;
}

Status ShardProcess::SendSummarize(const ShardMap& map) {
  Parts parts = {"summarize"};
  PutMap(map, &parts);
  return Send(fd_, parts);
}

Result<std::string> ShardProcess::ReceiveBlocks() {
  SLUICE_ASSIGN_OR_RETURN(Parts parts, ReceiveReply(fd_));
  if (parts.empty()) return Status::Internal("shard pipe: no DedupBlocks");
  return std::move(parts[0]);
}

Status ShardProcess::SendCompare(const ShardMap& map, const std::vector<std::string>& blocks) {
  Parts parts = {"compare"};
  PutMap(map, &parts);
  PutAll(blocks, &parts);
  return Send(fd_, parts);
}

Result<std::string> ShardProcess::ReceivePatterns() {
  SLUICE_ASSIGN_OR_RETURN(Parts parts, ReceiveReply(fd_));
  if (parts.empty()) return Status::Internal("shard pipe: no DedupPatterns");
  return std::move(parts[0]);
}

Status ShardProcess::SendDecide(const ShardMap& map, const std::vector<std::string>& blocks,
                                const std::vector<std::string>& patterns) {
  Parts parts = {"decide"};
  PutMap(map, &parts);
  PutAll(blocks, &parts);
  PutAll(patterns, &parts);
  return Send(fd_, parts);
}

Result<v1::DedupEdges> ShardProcess::ReceiveEdges() {
  SLUICE_ASSIGN_OR_RETURN(Parts parts, ReceiveReply(fd_));
  return Parsed<v1::DedupEdges>(parts.at(0));
}

Status ShardProcess::SendMembersFor(const ShardMap& map, const std::string& all) {
  Parts parts = {"members"};
  PutMap(map, &parts);
  PutAll({}, &parts);
  parts.push_back(all);
  return Send(fd_, parts);
}

Result<std::map<uint32_t, std::string>> ShardProcess::ReceiveMembers(uint64_t* count) {
  SLUICE_ASSIGN_OR_RETURN(Parts parts, ReceiveReply(fd_));
  std::map<uint32_t, std::string> out;
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    unsigned to = 0;
    unsigned long long records = 0;
    if (std::sscanf(parts[i].c_str(), "%u %llu", &to, &records) != 2) {
      return Status::Corruption("shard pipe: bad members header");
    }
    *count += records;
    out[to] = std::move(parts[i + 1]);
  }
  return out;
}

Status ShardProcess::SendResolveWith(const ShardMap& map, const std::vector<std::string>& blocks,
                                     const std::string& all,
                                     const std::map<uint32_t, std::string>& members) {
  Parts parts = {"resolve_with"};
  PutMap(map, &parts);
  PutAll(blocks, &parts);
  parts.push_back(all);
  for (const auto& [from, batch] : members) {
    parts.push_back(std::to_string(from));
    parts.push_back(batch);
  }
  return Send(fd_, parts);
}

Status ShardProcess::SendPreRound(const std::string& what, const ShardMap& map,
                                  const std::vector<std::string>& payload) {
  Parts parts = {what};
  PutMap(map, &parts);
  PutAll(payload, &parts);
  return Send(fd_, parts);
}

Result<std::vector<std::string>> ShardProcess::ReceiveParts() { return ReceiveReply(fd_); }

Result<ShardUsage> ShardProcess::Finish() {
  SLUICE_RETURN_IF_ERROR(Send(fd_, {"finish"}));
  Result<Parts> parts = ReceiveReply(fd_);
  ::close(fd_);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  if (!parts.ok()) return parts.status();
  ShardUsage u;
  u.peak_rss_kb = std::stoull(parts->at(0));
  u.cpu_seconds = std::stod(parts->at(1));
  return u;
}

}  // namespace sluice::bench
