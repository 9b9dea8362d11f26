"""The one root of soketler's exceptions, split by who is at fault.

The protocol parsers never raise these into a transport: a peer's bad input becomes a
reply (an error line, a JSON `error` object). They exist for the Python API and for
programming mistakes.
"""


class SoketlerError(Exception):
    """Root of every exception soketler raises on purpose."""


class LocalProtocolError(SoketlerError):
    """We were asked to do something the protocol does not allow (our bug)."""


class RemoteProtocolError(SoketlerError):
    """The peer sent something the protocol does not allow."""
