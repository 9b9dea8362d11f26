"""The well-known ports table (`soketler ports`), merged with /etc/services.

The built-in table carries the ports a network engineer meets every week, with a
short description; the system's services database adds the long tail and the
aliases. Entries are per (port, protocol), as in /etc/services.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

SERVICES_FILE = Path("/etc/services")

TCP, UDP = "tcp", "udp"
BOTH = (TCP, UDP)


@dataclass(frozen=True)
class PortEntry:
    port: int
    protocol: str
    name: str
    description: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)


# (port, protocols, name, description): the tutorials' ten (21 22 23 25 53 80 110
# 119 143 443) and the ones that come up in any network troubleshooting session.
_BUILTIN: tuple[tuple[int, tuple[str, ...], str, str], ...] = (
    (7, BOTH, "echo", "Echo: sends back what it receives"),
    (9, BOTH, "discard", "Discard: reads and drops everything"),
    (13, BOTH, "daytime", "Daytime: the time as text"),
    (20, (TCP,), "ftp-data", "FTP data channel"),
    (21, (TCP,), "ftp", "FTP File Transfer Protocol (control)"),
    (22, (TCP,), "ssh", "SSH Secure Shell"),
    (23, (TCP,), "telnet", "Telnet"),
    (25, (TCP,), "smtp", "SMTP Simple Mail Transfer Protocol"),
    (37, BOTH, "time", "Time Protocol (binary)"),
    (43, (TCP,), "whois", "WHOIS directory"),
    (53, BOTH, "domain", "DNS Domain Name System"),
    (67, (UDP,), "bootps", "DHCP/BOOTP server"),
    (68, (UDP,), "bootpc", "DHCP/BOOTP client"),
    (69, (UDP,), "tftp", "TFTP Trivial File Transfer Protocol"),
    (70, (TCP,), "gopher", "Gopher"),
    (79, (TCP,), "finger", "Finger user information"),
    (80, (TCP,), "http", "HTTP HyperText Transfer Protocol"),
    (88, BOTH, "kerberos", "Kerberos authentication"),
    (110, (TCP,), "pop3", "POP3 Post Office Protocol"),
    (111, BOTH, "sunrpc", "ONC RPC portmapper (rpcbind)"),
    (119, (TCP,), "nntp", "NNTP Usenet news"),
    (123, (UDP,), "ntp", "NTP Network Time Protocol"),
    (135, (TCP,), "epmap", "Microsoft RPC endpoint mapper"),
    (137, (UDP,), "netbios-ns", "NetBIOS name service"),
    (138, (UDP,), "netbios-dgm", "NetBIOS datagram service"),
    (139, (TCP,), "netbios-ssn", "NetBIOS session service (SMB over NetBIOS)"),
    (143, (TCP,), "imap", "IMAP Internet Message Access Protocol"),
    (161, (UDP,), "snmp", "SNMP Simple Network Management Protocol"),
    (162, (UDP,), "snmp-trap", "SNMP traps"),
    (179, (TCP,), "bgp", "BGP Border Gateway Protocol"),
    (194, (TCP,), "irc", "IRC Internet Relay Chat (registered port)"),
    (389, (TCP,), "ldap", "LDAP directory"),
    (443, BOTH, "https", "HTTPS HTTP over TLS (UDP: HTTP/3 over QUIC)"),
    (445, (TCP,), "microsoft-ds", "SMB file sharing"),
    (465, (TCP,), "submissions", "Mail submission over TLS"),
    (500, (UDP,), "isakmp", "IPsec IKE key exchange"),
    (514, (UDP,), "syslog", "Syslog"),
    (515, (TCP,), "printer", "LPD line printer"),
    (520, (UDP,), "router", "RIP routing"),
    (546, (UDP,), "dhcpv6-client", "DHCPv6 client"),
    (547, (UDP,), "dhcpv6-server", "DHCPv6 server"),
    (554, (TCP,), "rtsp", "RTSP Real Time Streaming Protocol"),
    (587, (TCP,), "submission", "Mail submission (STARTTLS)"),
    (631, (TCP,), "ipp", "IPP Internet Printing Protocol (CUPS)"),
    (636, (TCP,), "ldaps", "LDAP over TLS"),
    (853, (TCP,), "domain-s", "DNS over TLS"),
    (873, (TCP,), "rsync", "rsync daemon"),
    (989, (TCP,), "ftps-data", "FTP data over TLS"),
    (990, (TCP,), "ftps", "FTP control over TLS"),
    (993, (TCP,), "imaps", "IMAP over TLS"),
    (995, (TCP,), "pop3s", "POP3 over TLS"),
    (1080, (TCP,), "socks", "SOCKS proxy"),
    (1194, BOTH, "openvpn", "OpenVPN"),
    (1433, (TCP,), "ms-sql-s", "Microsoft SQL Server"),
    (1521, (TCP,), "oracle", "Oracle database listener"),
    (1723, (TCP,), "pptp", "PPTP VPN"),
    (1883, (TCP,), "mqtt", "MQTT messaging"),
    (2049, BOTH, "nfs", "NFS Network File System"),
    (2375, (TCP,), "docker", "Docker API (plain)"),
    (2376, (TCP,), "docker-s", "Docker API over TLS"),
    (3000, (TCP,), "dev-http", "Common development web server port"),
    (3306, (TCP,), "mysql", "MySQL / MariaDB"),
    (3389, (TCP,), "ms-wbt-server", "RDP Remote Desktop"),
    (3478, BOTH, "stun", "STUN/TURN NAT traversal"),
    (4789, (UDP,), "vxlan", "VXLAN overlay networks"),
    (5060, BOTH, "sip", "SIP Session Initiation Protocol"),
    (5061, (TCP,), "sips", "SIP over TLS"),
    (5353, (UDP,), "mdns", "Multicast DNS"),
    (5432, (TCP,), "postgresql", "PostgreSQL"),
    (5672, (TCP,), "amqp", "AMQP (RabbitMQ)"),
    (5900, (TCP,), "vnc", "VNC remote framebuffer"),
    (6379, (TCP,), "redis", "Redis"),
    (6443, (TCP,), "kube-apiserver", "Kubernetes API server"),
    (6667, (TCP,), "ircd", "IRC (the usual plain-text port)"),
    (6697, (TCP,), "ircs-u", "IRC over TLS"),
    (8000, (TCP,), "http-alt", "Alternative HTTP (development servers)"),
    (8080, (TCP,), "http-proxy", "Alternative HTTP / proxies"),
    (8443, (TCP,), "https-alt", "Alternative HTTPS"),
    (8883, (TCP,), "secure-mqtt", "MQTT over TLS"),
    (9092, (TCP,), "kafka", "Apache Kafka"),
    (9200, (TCP,), "elasticsearch", "Elasticsearch / OpenSearch HTTP"),
    (11211, BOTH, "memcache", "Memcached"),
    (12345, (TCP,), "soketler-listen", "soketler listen's default port"),
    (27017, (TCP,), "mongodb", "MongoDB"),
    (51820, (UDP,), "wireguard", "WireGuard VPN"),
    (61000, (TCP,), "soketler-chat", "soketler chat server's default port"),
)


def builtin_entries() -> list[PortEntry]:
    return [
        PortEntry(port, protocol, name, description)
        for port, protocols, name, description in _BUILTIN
        for protocol in protocols
    ]


def parse_services(lines: Iterable[str]) -> list[PortEntry]:
    """Entries from services(5) text: `name port/protocol [aliases...] [# comment]`."""
    entries: list[PortEntry] = []
    for raw in lines:
        text, _, comment = raw.partition("#")
        fields = text.split()
        if len(fields) < 2:
            continue
        number, slash, protocol = fields[1].partition("/")
        if not slash or not number.isdecimal() or not 0 <= int(number) <= 65535:
            continue  # a malformed line says nothing reliable: skip it
        entries.append(
            PortEntry(
                port=int(number),
                protocol=protocol.lower(),
                name=fields[0],
                description=comment.strip(),
                aliases=tuple(fields[2:]),
            )
        )
    return entries


def system_entries(path: Path = SERVICES_FILE) -> list[PortEntry]:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return parse_services(handle)
    except OSError:
        return []  # no services database (containers, Windows): the built-ins remain


def merged(system: Iterable[PortEntry]) -> list[PortEntry]:
    """Built-ins win on name and description; the system adds aliases and new ports."""
    table: dict[tuple[int, str], PortEntry] = {
        (entry.port, entry.protocol): entry for entry in builtin_entries()
    }
    for entry in system:
        key = (entry.port, entry.protocol)
        known = table.get(key)
        if known is None:
            table[key] = entry
            continue
        extra = [n for n in (entry.name, *entry.aliases) if n != known.name]
        aliases = tuple(dict.fromkeys((*known.aliases, *extra)))
        table[key] = replace(known, aliases=aliases)
    return sorted(table.values(), key=lambda e: (e.port, e.protocol))


def all_ports(path: Path = SERVICES_FILE) -> list[PortEntry]:
    return merged(system_entries(path))


def lookup(query: str | None = None, *, path: Path = SERVICES_FILE) -> list[PortEntry]:
    """Entries matching `query`: a number (`80`, `80/tcp`), or a word found in a
    name, alias or description (case-insensitive). No query: the whole table."""
    entries = all_ports(path)
    if query is None or not query.strip():
        return entries
    text = query.strip().lower()
    number, slash, protocol = text.partition("/")
    if number.isdecimal():
        return [
            e for e in entries if e.port == int(number) and (not slash or e.protocol == protocol)
        ]
    return [
        e
        for e in entries
        if any(text in word.lower() for word in (e.name, e.description, *e.aliases))
    ]


def names(protocol: str = TCP, path: Path = SERVICES_FILE) -> dict[int, str]:
    """Port → service name for one protocol, e.g. {22: "ssh", ...} (labels probe results)."""
    return {e.port: e.name for e in all_ports(path) if e.protocol == protocol}
