"""Cluster mode: many server processes and machines share rooms through Redis.

Pure parts (no I/O): `cursors` (stream id <-> message id), `keys` (where everything
lives, one hash tag per room), `entries` (events <-> stream entry fields). Parts that
talk to Redis (redis-py's asyncio client, on the event loop): `connect`, `publisher`
(XADD), `reader` (XREAD BLOCK), `nicks` (nickname claims), `presence` (who is where).
"""
