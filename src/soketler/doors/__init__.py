"""Doors: the ways into the chat rooms (plain lines, JSON lines, IRC, ...).

Each door wires its wire protocol (`protocols/`) to the hub's neutral operations,
with its own session policy: how a newcomer is greeted, how registration works, which
replies it wants.
"""
