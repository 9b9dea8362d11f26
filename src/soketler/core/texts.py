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
