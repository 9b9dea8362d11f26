"""Thin asyncio adapters between sockets and the chat core."""
