"""A tiny HTTP GET client over a raw socket, with the errors a real one must handle.

Teaches three things the quick versions skip: the name lookup can fail
(`socket.gaierror`), the connection can hang (a timeout), and the reply must be
read until the server closes, because it rarely fits in one `recv`. HTTP/1.0 with
"Connection: close" keeps the protocol side simple: the server closes when done.

    python examples/http_get.py example.org        # port 80, path /
    python examples/http_get.py 127.0.0.1 8000 /index.html
"""

from __future__ import annotations

import socket
import sys


def http_get(host: str, port: int = 80, path: str = "/", timeout: float = 10.0) -> bytes:
    """The raw response (status line, headers and body) for GET `path`."""
    request = (
        f"GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n"
        "User-Agent: soketler-example\r\n\r\n"
    ).encode("ascii")
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def main(host: str, port: int = 80, path: str = "/") -> int:
    try:
        response = http_get(host, port, path)
    except socket.gaierror as exc:
        print(f"cannot resolve {host!r}: {exc.strerror}", file=sys.stderr)
        return 3
    except UnicodeError:  # Python refuses names that break DNS rules before asking
        print(f"cannot resolve {host!r}: not a valid host name", file=sys.stderr)
        return 3
    except TimeoutError:
        print(f"{host} port {port}: timed out", file=sys.stderr)
        return 6
    except ConnectionRefusedError:
        print(f"{host} port {port}: connection refused", file=sys.stderr)
        return 4
    except OSError as exc:
        print(f"{host} port {port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    head, _, body = response.partition(b"\r\n\r\n")
    print(head.decode("iso-8859-1").splitlines()[0] if head else "(empty reply)")
    sys.stdout.buffer.write(body)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: http_get.py HOST [PORT] [PATH]")
    sys.exit(
        main(
            sys.argv[1],
            int(sys.argv[2]) if len(sys.argv) > 2 else 80,
            sys.argv[3] if len(sys.argv) > 3 else "/",
        )
    )
