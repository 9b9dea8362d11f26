"""History backends behind one interface: in memory, and SQLite (the default)."""
