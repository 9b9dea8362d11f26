"""The server's own words that are not a door's: why a connection ended."""

from __future__ import annotations

# Reasons shown when a connection ends.
QUIT_DEFAULT = "Quit"
CONNECTION_CLOSED = "Connection closed"
SENDQ_EXCEEDED = "SendQ exceeded"
EXCESS_FLOOD = "Excess flood"
REGISTRATION_TIMEOUT = "Registration timeout"
PING_TIMEOUT = "Ping timeout"
SERVER_SHUTDOWN = "Server shutting down"
SERVER_FULL = "Server full ({limit} clients); try again later."
TOO_MANY_FROM_ADDRESS = "Too many connections from your address ({limit}); try again later."
# Who may come in (security/access.py, server bans) and TLS.
ACCESS_DENIED = "Your address may not connect to this server."
ACCESS_REVOKED = "Your address may no longer connect to this server"
BANNED_FROM_SERVER = "Banned from this server: {reason}"
TLS_ONLY = "This port speaks TLS; connect with TLS (or to the plaintext port)."
TLS_FAILED = "TLS failed"
TLS_HANDSHAKE_TIMEOUT = "TLS handshake timeout"
WRONG_PASSWORD = "Wrong password"
KILLED = "Killed by {by}: {reason}"
BANNED_FROM_ROOM = "Banned"
NO_REASON = "no reason given"

# Cluster mode: what everyone on a node is told when the other nodes cannot be reached,
# and when they can again; why the users of a node that stopped or died left.
CLUSTER_DEGRADED = (
    "Cross-server delivery is degraded: for now your messages reach people on this "
    "server only; the others will get them when it is restored."
)
CLUSTER_RESTORED = "Cross-server delivery is restored."
NODE_GONE = "Server gone"
