"""TLS, passwords, accounts, operators and access lists.

Everything here is usable without the chat hub: certificate contexts and their
reloading (`tls`, `selfsigned`), TLS on bytes for protocols that run their own
handshake (`tlslayer`), password hashes (`passwords`) and the accounts kept
beside the history (`accounts`), operators from the configuration (`operators`), the
slowdown after failed logins (`slowdown`) and CIDR allow/deny lists (`access`).
"""
