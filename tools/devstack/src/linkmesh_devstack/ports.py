"""Free TCP ports on the loopback interface.

A port is chosen below the kernel's ephemeral range (``ip_local_port_range``): a port the
kernel hands out for ``bind(0)`` comes from the range outgoing connections use too, so
between choosing it and a service binding it, any client socket (a benchmark opens
thousands) could take it ("Address already in use"). Below the range only another
listener can, and a port is handed out once per process.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_given: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    low, _ = _ephemeral_range()
    first = 20000 if low > 21000 else 1024
    for _ in range(200):
        port = random.randrange(first, low)
        if port in _given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # nothing free below the range
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
