"""Free ports for the processes the project starts (never fixed ones)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that the OS says is free right now (bind to port 0).

    Another process may take it before the child binds it; the module contract's exit code 98
    exists for that race, and callers retry on a new port.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
