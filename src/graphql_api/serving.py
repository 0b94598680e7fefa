"""Run the ASGI app under uvicorn in a background thread on a loopback port: for tests and
benchmarks that talk to a real HTTP server (``gridcore serve`` runs uvicorn in the foreground).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn


@contextmanager
def running(asgi: Any, host: str = "127.0.0.1", timeout: float = 15.0) -> Iterator[str]:
    """Serve ``asgi`` on a free port of ``host``; yields the base URL once the server answers
    ``/healthz``, and stops it afterwards."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it a response's head and body (two writes) wait out the peer's delayed ACK (~40 ms)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="api-server", daemon=True)
    thread.start()
    base = f"http://{host}:{port}"
    try:
        _wait_until_up(f"{base}/healthz", thread, timeout)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        sock.close()


def _wait_until_up(url: str, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not thread.is_alive():
            raise RuntimeError("the API server stopped while starting")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the API server did not answer {url} within {timeout} s")
        time.sleep(0.02)  # polling interval while waiting for the condition, not a fixed wait
