"""The chat server's metrics, as /metrics shows them (Prometheus text format).

Nearly all are read when asked: the hub, the pumps and the store keep plain numbers
(core/counts.py, `Delivery.delivered`, queue lengths) and the registry reads them at
scrape time, so nothing on the hot path calls into this module. Counters are totals;
Prometheus' `rate()` makes the per-second figures (messages/s, deliveries/s). The two
commit histograms are observed on the store's writer thread, their only writer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from soketler.doors.registry import DOORS
from soketler.metrics import Registry

if TYPE_CHECKING:
    from soketler.transport.server import ChatServer

# Messages in one group commit: one alone, up to the SQLite store's statements of 256
# and beyond, when the disk falls behind.
COMMIT_SIZES = (1, 4, 16, 64, 256, 1024)
# Why a connection was not admitted, as the metrics label it.
REFUSED_FULL = "full"
REFUSED_PER_ADDRESS = "per-address"


def _read(counter: Counter[str], key: str) -> Callable[[], float]:
    return lambda: counter[key]


class ServerMetrics:
    def __init__(self, registry: Registry, server: ChatServer) -> None:
        hub = server.hub
        counts = hub.counts
        doors = sorted(DOORS)
        connections = registry.gauge(
            "soketler_connections", "Sessions open now, by door.", ["door"]
        )
        accepted = registry.counter(
            "soketler_connections_accepted_total", "Sessions opened, by door.", ["door"]
        )
        sendq = registry.counter(
            "soketler_sendq_drops_total",
            "Clients dropped for not reading (SendQ exceeded), by door.",
            ["door"],
        )
        floods = registry.counter(
            "soketler_floods_total", "Clients dropped for Excess flood, by door.", ["door"]
        )
        for door in doors:
            connections.labels(door=door).set_function(_read(counts.open, door))
            accepted.labels(door=door).set_function(_read(counts.accepted, door))
            sendq.labels(door=door).set_function(_read(counts.sendq_drops, door))
            floods.labels(door=door).set_function(_read(counts.floods, door))
        refused = registry.counter(
            "soketler_connections_refused_total",
            "Connections not admitted (server full, too many from one address), by reason.",
            ["reason"],
        )
        for reason in (REFUSED_FULL, REFUSED_PER_ADDRESS):
            refused.labels(reason=reason).set_function(_read(counts.refused, reason))
        messages = registry.counter(
            "soketler_messages_total", "Messages accepted, room or private.", ["kind"]
        )
        messages.labels(kind="room").set_function(lambda: counts.room_messages)
        messages.labels(kind="private").set_function(lambda: counts.private_messages)
        registry.counter(
            "soketler_deliveries_total", "Events written to readers by fan-out."
        ).set_function(lambda: hub.delivery.delivered)
        registry.counter(
            "soketler_busy_total", "Messages refused because too many waited for the store."
        ).set_function(lambda: counts.busy)
        self.commit_seconds = registry.histogram(
            "soketler_store_commit_seconds", "Seconds a group commit of the history took."
        )
        self.commit_messages = registry.histogram(
            "soketler_store_commit_messages", "Messages in one group commit.", buckets=COMMIT_SIZES
        )
        self.store_failures = registry.counter(
            "soketler_store_failures_total", "Groups of messages the history store could not keep."
        )
        registry.gauge(
            "soketler_store_queue_depth", "Messages waiting for the history store."
        ).set_function(lambda: hub.pending)
        registry.gauge(
            "soketler_delivery_queue_depth", "Connections waiting for their turn to write."
        ).set_function(lambda: len(server.flusher) if server.started else 0)
        registry.gauge("soketler_rooms", "Rooms with people in them.").set_function(
            lambda: len(hub.rooms.by_key)
        )
        registry.gauge("soketler_users", "Sessions with a nickname.").set_function(
            lambda: len(hub.nicks)
        )

    def commit(self, seconds: float, messages: int, failed: bool) -> None:
        """A group commit (on the store's writer thread)."""
        if failed:
            self.store_failures.inc()
            return
        self.commit_seconds.observe(seconds)
        if messages:
            self.commit_messages.observe(messages)
