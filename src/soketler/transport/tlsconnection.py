"""A client on a TLS port: plain TCP accepted by the server, TLS run inside the connection.

The handshake runs in the connection's own protocol (`security.tlslayer.TlsLayer`, TLS
on bytes), not in the event loop's TLS (`create_server(ssl=...)`), for three reasons:
- the connection is counted against `--max-clients` and `--max-per-address` the moment
  it is accepted, so half-open handshakes take places like anyone else (with asyncio's
  TLS the protocol hears of a connection only once its handshake is over);
- a handshake not done within `--tls-handshake-timeout` is cut by a timer of its own;
- a client that fails the handshake gets the alert that tells it why, and one that
  speaks plaintext to the port gets one plain line saying so, then both are closed at
  once without touching anyone else.
(`loop.start_tls()` from `connection_made` was tried: under uvloop 0.23 the ClientHello
reached the plain protocol first and the handshake stalled.)

Once the handshake is done the session begins, exactly as on a plain port: the pump
sees a `TlsWire`, which encrypts each flush (one TLS write per connection per flush,
however many events it joins) and counts the socket's unsent bytes as its SendQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import TYPE_CHECKING, Any, cast

from soketler.core import texts
from soketler.security.tls import explain_connection_error, explain_handshake_error
from soketler.security.tlslayer import TlsLayer
from soketler.transport.connection import WRITE_HIGH, WRITE_LOW, ChatConnection

if TYPE_CHECKING:
    from soketler.doors import Door
    from soketler.security.tls import ReloadableServerContext
    from soketler.transport.server import ChatServer

log = logging.getLogger("soketler.server")

# After a failed handshake: how long to wait for the client to close before cutting it.
# Closing with the client's bytes unread would send a reset, and a reset makes the
# client's kernel drop the alert that says why before the client reads it.
LINGER = 1.0
# OpenSSL's reasons for a first record that is no TLS at all (someone typing, or HTTP).
PLAINTEXT_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "PACKET_LENGTH_TOO_LONG"}
)


class TlsWire:
    """The pump's `Wire` over TLS: what the pump writes is encrypted, everything else is
    the TCP transport's."""

    __slots__ = ("layer", "raw")

    def __init__(self, raw: asyncio.Transport, layer: TlsLayer) -> None:
        self.raw = raw
        self.layer = layer

    def write(self, data: bytes) -> None:
        if self.raw.is_closing():
            return
        try:
            self.layer.send(data)
        except ssl.SSLError:
            self.raw.abort()  # the TLS state is broken: nothing more can be said
            return
        self.raw.write(self.layer.data_to_send())

    def get_write_buffer_size(self) -> int:
        return self.raw.get_write_buffer_size()

    def is_closing(self) -> bool:
        return self.raw.is_closing()

    def pause_reading(self) -> None:
        self.raw.pause_reading()

    def resume_reading(self) -> None:
        self.raw.resume_reading()

    def close(self) -> None:
        """Our close_notify after what is queued, then the TCP close: a TLS client can
        tell an end from a cut."""
        if self.raw.is_closing():
            return
        if self.layer.handshake_done:
            self.layer.close()
            self.raw.write(self.layer.data_to_send())
        self.raw.close()

    def abort(self) -> None:
        self.raw.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self.layer.ssl
        if name == "peercert":
            return self.layer.ssl.getpeercert()
        return self.raw.get_extra_info(name, default)


class TlsConnection(ChatConnection):
    """A client of a door on a TLS port. See the module docstring."""

    # Only TLS clients pay for these: plaintext connections stay as small as they were.
    __slots__ = ("_context", "_discarding", "_layer", "_raw", "_timer")

    def __init__(self, server: ChatServer, door: Door, context: ReloadableServerContext) -> None:
        super().__init__(server, door)
        self._context = context
        self._layer: TlsLayer | None = None
        self._raw: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._discarding = False  # the handshake failed: the alert is out, we wait

    @property
    def secure(self) -> bool:
        return True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raw = self._raw = cast(asyncio.Transport, transport)
        layer = self._layer = TlsLayer(self._context.context, server_side=True)
        # Counted now, before the handshake: half-open handshakes hold places too.
        if not self.admit(TlsWire(raw, layer), self.server.address_of(raw)):
            return
        raw.set_write_buffer_limits(WRITE_HIGH, WRITE_LOW)
        if self.door.probe is None:
            self._keep_alive(raw)
        timeout = self.server.config.tls_handshake_timeout
        self._timer = self.loop.call_later(timeout, self._handshake_timed_out)

    def refuse(self, transport: Any, refusal: str) -> None:
        """Refused before the handshake (server full, an address kept out): nothing can
        be said in TLS yet, and a handshake would spend our CPU on someone refused."""
        if self._raw is not None:
            self._raw.close()

    def data_received(self, data: bytes) -> None:
        layer, raw = self._layer, self._raw
        if layer is None or raw is None or self._discarding or self._closing:
            return
        shaking = not layer.handshake_done
        try:
            plain = layer.receive(data)
        except ssl.SSLError as exc:
            self._failed(exc, shaking)
            return
        if layer.has_data_to_send:
            raw.write(layer.data_to_send())
        if shaking and layer.handshake_done:
            self._handshake_done()
        if plain:
            self.feed(plain)
        if layer.peer_finished:  # close_notify: the client has finished, as with EOF
            self.feed_eof()

    def _handshake_done(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.begin()

    def eof_received(self) -> bool:
        layer = self._layer
        if layer is None or self._discarding:
            return False
        if not layer.handshake_done:
            return False  # gone before TLS was up: close
        try:
            plain = layer.receive_eof()
        except ssl.SSLError:
            return False
        if plain:
            self.feed(plain)
        self.feed_eof()
        return True  # we close once the replies are out, with our close_notify

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.lost(exc)

    def _handshake_timed_out(self) -> None:
        self._timer = None
        log.info("%s: %s", self.address or "?", texts.TLS_HANDSHAKE_TIMEOUT)
        self.reason = texts.TLS_HANDSHAKE_TIMEOUT
        if self._raw is not None:
            self._raw.abort()

    def _failed(self, exc: ssl.SSLError, shaking: bool) -> None:
        """A handshake (or a record) failed: the alert, or one plain line to someone who
        does not speak TLS, then the close. Nothing of it reaches anyone else."""
        raw, layer = self._raw, self._layer
        assert raw is not None and layer is not None
        peer = self.address or "?"
        failure = (
            explain_handshake_error(exc, peer, client=False)
            if shaking
            else explain_connection_error(exc, peer)
        )
        log.info("%s", failure.message)
        self.reason = texts.TLS_FAILED
        self._discarding = True
        if self._timer is not None:
            self._timer.cancel()
        if shaking and exc.reason in PLAINTEXT_REASONS:
            raw.write(self.door.refusal_line(texts.TLS_ONLY))
        else:
            raw.write(layer.data_to_send())  # the alert that says why
        if not shaking:
            raw.abort()  # a damaged record in an open session: nothing to wait for
            return
        with contextlib.suppress(OSError, RuntimeError):
            raw.write_eof()
        self._timer = self.loop.call_later(LINGER, raw.abort)
