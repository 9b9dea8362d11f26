"""Real IRC clients driven in tests: irssi under tmux, and a raw socket client."""
