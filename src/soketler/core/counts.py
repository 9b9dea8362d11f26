"""What the hub counts for the server's metrics, whichever door a session came through.

Plain numbers, each changed by one addition on the event loop's thread, so counting
costs the hot path nothing worth measuring: a message is one addition, a fan-out to a
room of thousands one more (delivery.Delivery.delivered), never one per reader. The
metrics endpoint reads them when it is asked (transport/metrics.py).
"""

from __future__ import annotations

from collections import Counter


class Counts:
    __slots__ = (
        "accepted",
        "busy",
        "floods",
        "open",
        "private_messages",
        "refused",
        "room_messages",
        "sendq_drops",
    )

    def __init__(self) -> None:
        self.open: Counter[str] = Counter()  # sessions now, by door
        self.accepted: Counter[str] = Counter()  # sessions opened, by door
        self.refused: Counter[str] = Counter()  # connections not admitted, by reason
        self.room_messages = 0  # messages accepted (given to the store, or delivered)
        self.private_messages = 0
        self.busy = 0  # messages refused because too many waited for the store
        self.sendq_drops: Counter[str] = Counter()  # sessions dropped for SendQ, by door
        self.floods: Counter[str] = Counter()  # sessions dropped for Excess flood, by door
