"""soketler: a socket toolkit whose flagship is a multi-user chat server."""

__version__ = "0.1.0"
