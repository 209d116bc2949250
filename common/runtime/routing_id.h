// The ZeroMQ routing ids of a process's sockets (docs/architecture.md,
// "Security"). A ROUTER routes by the id its peer chose, so an id that is
// only a worker's name can be chosen by anyone who reaches the socket. Each
// process therefore picks a random nonce as it starts and names its sockets
// "<socket name>@<nonce>" ("loader-0@9f3c...", its heartbeat socket
// "loader-0/hb@9f3c..."). The ROUTERs keep the first connection of an id
// (no ROUTER_HANDOVER), so nobody takes over a live route, and a new process
// never collides with its predecessor's stale one.
#pragma once

#include <string>

namespace sluice {

// A fresh nonce for one process's routing ids: 16 hex digits from the
// system's random source.
std::string NewRouteNonce();

// "<socket_name>@<nonce>", or `socket_name` alone for an empty nonce.
std::string RoutingId(const std::string& socket_name, const std::string& nonce);

// The socket name a routing id claims: what precedes its last '@'
// ("loader-0/hb"), or the whole id when it has none.
std::string SocketNameOf(const std::string& routing_id);

// The worker a routing id claims: its socket name without the heartbeat
// socket's "/hb" ("loader-0" for "loader-0/hb@9f3c...").
std::string WorkerNameOf(const std::string& routing_id);

// The worker's role a socket name or routing id claims: what precedes the
// last '-' of its socket name ("loader" for "loader-0@9f3c..."), "" when none.
std::string RoleOf(const std::string& routing_id);

}  // namespace sluice
