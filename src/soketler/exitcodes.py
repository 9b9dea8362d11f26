"""Exit codes shared by every subcommand (documented in `soketler COMMAND --help`)."""

OK = 0
FAILURE = 1  # the operation ran but its answer is "no" (e.g. probe found no open port)
USAGE = 2  # bad arguments, invalid port, invalid option value
UNKNOWN_HOST = 3
REFUSED = 4
UNREACHABLE = 5
TIMEOUT = 6
ADDRESS_IN_USE = 7
PERMISSION_DENIED = 8
PROTOCOL = 9  # the peer said no or spoke nonsense (e.g. a nickname was rejected)
RESET = 10  # the peer reset the connection in the middle of a transfer
STORE = 11  # the history store cannot be used (unwritable, damaged, newer schema)
TLS = 12  # TLS: the peer's certificate was refused (untrusted, expired, wrong name or
# fingerprint), ours could not be loaded, or the handshake failed
INTERRUPTED = 130
