"""Delivery: events to sessions, encoded once, in one order per stream.

Each room and each private conversation is a stream. Within a stream every reader sees
events in the same order, and a message waits for the store before it is seen: while it
waits, everything after it *in its stream* waits too. Across streams nothing is
promised (as in IRC), so a slow commit or history read in one room delays nobody
elsewhere.

Among what is ready, deliveries go out in the order they were made, whatever their
stream: one sender's message to a room and then to a person reach someone who gets both
in that order (as the whole server's one queue did), and only what waits holds back.

Delivery is the hot path. An event is encoded once per (codec, view) and the same bytes
are appended to each recipient's queue (`Peer.write`); there is no task and no await per
recipient, and the transport coalesces each client's writes.
"""

from __future__ import annotations

import heapq
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import cast

from soketler.core.session import Room, Session
from soketler.protocols.events import ChatMessage, Codec, ServerEvent, View

log = logging.getLogger("soketler.server")

Run = Callable[[], None]


def room_stream(room: Room) -> str:
    return room.key  # room keys start with "#"


def private_stream(key_a: str, key_b: str) -> str:
    # A space cannot be in a nickname, nor a room key start without "#".
    return " ".join(sorted((key_a, key_b)))


class _Held:
    """A delivery waiting for the store; later deliveries of its stream queue behind it.

    Either `run` (any delivery) or a room message: `event` for `audience`, kept as data
    so that messages released together to the same audience go out together.
    """

    __slots__ = ("audience", "event", "origin", "ready", "room", "run", "seq", "stream")

    def __init__(self, stream: str, seq: int, run: Run | None = None) -> None:
        self.stream = stream
        self.seq = seq  # when it was made: what is ready goes out in this order
        self.run = run
        self.ready = run is not None
        self.event: ChatMessage | None = None
        self.audience: tuple[Session, ...] = ()
        self.room: Room | None = None
        self.origin: Session | None = None  # who said it


class Delivery:
    def __init__(self) -> None:
        # Streams with something waiting, each its deliveries in order. A stream with
        # nothing waiting has no entry: memory follows what waits, not what exists.
        self.streams: dict[str, deque[_Held]] = {}
        # How to run something once the current callback is over (the server sets
        # loop.call_soon). With it, everything a store commit releases is delivered in
        # one go, the messages of one room joined into one write per member; without
        # it (tests), each is delivered the moment it is stored.
        self.defer: Callable[[Run], object] | None = None
        self._ready: list[str] = []  # streams whose head may have become ready
        self._drain_deferred = False
        self._seq = 0  # deliveries made so far
        # Private streams with something waiting, by the nickname keys of their two
        # parties: what a reply to either of them must wait for.
        self._private: dict[str, set[str]] = {}
        # Events written to readers by fan-out, counted once per fan-out (for metrics).
        self.delivered = 0

    # --- sending now --------------------------------------------------------------------

    @staticmethod
    def write(session: Session, event: ServerEvent, view: View = View.HERE) -> None:
        """One event to one reader, now."""
        session.peer.write(session.codec.reply(event, session, view))

    @staticmethod
    def fanout_now(
        events: Sequence[ServerEvent],
        sessions: Iterable[Session],
        room: Room | None,
        origins: Sequence[Session | None] = (),
    ) -> None:
        """Events, in order, to many sessions now: one write per session, each event
        encoded once per (codec, view). The loop over recipients is the costly part of
        a big room, so several messages share one pass when they can.

        `origins`, beside `events`, names who said each one: a session that does not
        want its own messages back (`Session.echo`) gets the others only."""
        here: dict[Codec, bytes] = {}
        elsewhere: dict[Codec, bytes] = {}
        if origins:
            quiet = {origin for origin in origins if origin is not None and not origin.echo}
            if quiet:
                # Those who said something and do not want it back get the rest alone;
                # the loop below, the costly part, stays as it is for everyone else.
                others = []
                for session in sessions:
                    if session in quiet:
                        Delivery._all_but_own(events, origins, session, room)
                    else:
                        others.append(session)
                sessions = others
        for session in sessions:
            # (current is None for doors without a current room, and for someone who
            # has just quit: their last lines are theirs.)
            current = session.current
            cache = here if room is None or current is room or current is None else elsewhere
            codec = session.codec
            data = cache.get(codec)
            if data is None:
                view = View.HERE if cache is here else View.ELSEWHERE
                data = cache[codec] = b"".join([codec.encode(event, view) for event in events])
            # (Some codecs say nothing of some events, IRC without away-notify: an empty
            # write costs the transport nothing, and a check here would cost every one.)
            session.peer.write(data)

    @staticmethod
    def _all_but_own(
        events: Sequence[ServerEvent],
        origins: Sequence[Session | None],
        session: Session,
        room: Room | None,
    ) -> None:
        current = session.current
        view = View.HERE if room is None or current is room or current is None else View.ELSEWHERE
        codec = session.codec
        data = b"".join(
            [
                codec.encode(event, view)
                for event, origin in zip(events, origins, strict=True)
                if origin is not session
            ]
        )
        if data:
            session.peer.write(data)

    # --- keeping order while the store works ----------------------------------------

    def pending(self, stream: str) -> bool:
        return stream in self.streams

    def emit(self, stream: str | None, run: Run) -> None:
        """Runs a delivery now, or after everything still waiting in its stream."""
        queue = self.streams.get(stream) if stream is not None else None
        if queue:
            queue.append(self._held(cast(str, stream), run))
        else:
            run()

    def _held(self, stream: str, run: Run | None = None) -> _Held:
        self._seq += 1
        return _Held(stream, self._seq, run)

    def after_all(self, streams: Iterable[str], run: Run) -> None:
        """Runs a delivery once everything now waiting in all these streams is out."""
        waiting = [stream for stream in set(streams) if stream in self.streams]
        if not waiting:
            run()
            return
        left = len(waiting)

        def one() -> None:
            nonlocal left
            left -= 1
            if left == 0:
                run()

        for stream in waiting:
            self.streams[stream].append(self._held(stream, one))

    def fanout(
        self,
        stream: str | None,
        event: ServerEvent,
        sessions: Collection[Session],
        room: Room | None,
        origin: Session | None = None,
    ) -> None:
        """One event to many sessions, in order within its stream (`origin`: who said
        it, if it is something said)."""
        self.delivered += len(sessions)
        origins = (origin,) if origin is not None else ()
        if stream is not None and stream in self.streams:
            audience = list(sessions)  # who is there now, not when the queue moves
            self.emit(stream, lambda: self.fanout_now((event,), audience, room, origins))
        else:
            self.fanout_now((event,), sessions, room, origins)

    def hold(self, stream: str) -> _Held:
        """A place in the stream for a delivery that is not ready yet."""
        held = self._held(stream)
        queue = self.streams.get(stream)
        if queue is None:
            queue = self.streams[stream] = deque()
            if " " in stream:  # a private stream: index it by its two parties
                for party in stream.split(" "):
                    self._private.setdefault(party, set()).add(stream)
        queue.append(held)
        return held

    def hold_first(self, stream: str) -> _Held:
        """A place at the head of the stream: for a delivery that is being made (its
        turn came) and must be followed by something not ready yet (a history page for
        someone who has just joined), before whatever waits behind it."""
        held = self.hold(stream)
        queue = self.streams[stream]
        queue.pop()
        queue.appendleft(held)
        return held

    def streams_of(self, session: Session) -> list[str]:
        """The streams with something waiting that `session` reads: its rooms' and its
        private conversations'. A reply to it waits for them, so that it comes after
        everything already said to it (a PONG after the message said before the PING)."""
        waiting = [room.key for room in session.rooms.values() if room.key in self.streams]
        waiting += self._private.get(session.key, ())
        return waiting

    def hold_message(
        self, message: ChatMessage, room: Room, origin: Session | None = None
    ) -> _Held:
        held = self.hold(room_stream(room))
        held.event, held.room, held.audience = message, room, room.audience()
        held.origin = origin
        return held

    def release(self, held: _Held, run: Run | None = None) -> None:
        """`held` is ready: deliver it (`run`, or its room message) once everything
        before it in its stream is delivered."""
        if run is not None:
            held.run = run
        held.ready = True
        self._ready.append(held.stream)
        if self.defer is None:
            self.drain()
        elif not self._drain_deferred:
            self._drain_deferred = True
            self.defer(self.drain)

    def drain(self) -> None:
        """Delivers what is ready at the head of its stream, oldest first across
        streams."""
        self._drain_deferred = False
        ready, self._ready = self._ready, []
        heads = []
        for stream in set(ready):
            queue = self.streams.get(stream)
            if queue and queue[0].ready:
                heads.append((queue[0].seq, stream))
        heapq.heapify(heads)
        while heads:
            seq, stream = heapq.heappop(heads)
            queue = self.streams.get(stream)
            if not queue or queue[0].seq != seq:
                continue  # delivered meanwhile (a delivery can drain too)
            self._deliver_head(queue, heads[0][0] if heads else None)
            if not queue:
                self._forget(stream)
            elif queue[0].ready:
                heapq.heappush(heads, (queue[0].seq, stream))

    def _forget(self, stream: str) -> None:
        del self.streams[stream]
        if " " in stream:
            for party in stream.split(" "):
                streams = self._private.get(party)
                if streams is not None:
                    streams.discard(stream)
                    if not streams:
                        del self._private[party]

    def _deliver_head(self, queue: deque[_Held], before: int | None) -> None:
        """Delivers the head of a stream; with the room messages after it for the same
        people in one pass, those made before `before` (the next ready elsewhere)."""
        first = queue.popleft()
        try:
            if first.run is not None:
                first.run()
                return
            audience = first.audience
            events: list[ServerEvent] = [cast(ChatMessage, first.event)]
            origins = [first.origin]
            while (
                queue
                and queue[0].ready
                and queue[0].run is None
                and queue[0].audience is audience
                and (before is None or queue[0].seq < before)
            ):
                held = queue.popleft()
                events.append(cast(ChatMessage, held.event))
                origins.append(held.origin)
            self.delivered += len(events) * len(audience)
            self.fanout_now(events, audience, first.room, origins)
        except Exception:
            # A delivery that fails must not stop the ones behind it: everyone else's
            # messages wait in this queue.
            log.exception("a delivery failed")

    def clear(self) -> None:
        self.streams.clear()
        self._ready.clear()
        self._private.clear()
