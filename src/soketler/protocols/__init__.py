"""Sans-I/O protocol code: bytes in, events out; events in, bytes out.

Nothing here imports asyncio or socket, so every parser is testable in microseconds.
"""
