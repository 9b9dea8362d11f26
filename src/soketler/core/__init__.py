"""The chat itself: sessions, nicknames, rooms, commands. No sockets, no bytes."""
