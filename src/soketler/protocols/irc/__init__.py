"""The IRC wire protocol, without I/O: messages with IRCv3 tags, the receiving side
of a connection, capability negotiation, registration, numerics and ISUPPORT."""
