"""Which MongoDB the development stack and the tests use, in this order:

1. ``MONGODB_URI`` if set;
2. a testcontainers MongoDB (real ``mongo`` image) when a Docker engine answers;
3. a ``mongod`` binary on PATH;
4. SecantusDB (PyPI ``SecantusDB``), which speaks the MongoDB wire protocol over
   WiredTiger storage.

Never an in-memory fake: every choice is a real server reached over the wire.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from linkmesh_devstack.ports import free_port

MONGO_IMAGE = "mongo:7.0"


@dataclass
class MongoServer:
    uri: str
    kind: str
    process: subprocess.Popen[bytes] | None = None
    container: Any = None
    log_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.container is not None:
            self.container.stop()


def docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=2)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


def wait_for(uri: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None, log_path: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log_path.read_text()[-2000:] if log_path and log_path.exists() else ""
            raise RuntimeError(f"the MongoDB server exited with code {process.returncode}:\n{tail}")
        try:
            client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=500)
            client.admin.command("ping")
            client.close()
            return
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(0.2)
    raise RuntimeError(f"no MongoDB answered at {uri} within {timeout:.0f}s: {last}")


def start_mongo(data_dir: Path, *, port: int | None = None, log_dir: Path | None = None) -> MongoServer:
    """Starts (or points at) a MongoDB server; ``data_dir`` keeps its data across restarts."""
    uri = os.environ.get("MONGODB_URI")
    if uri:
        wait_for(uri, timeout=15)
        return MongoServer(uri, "MONGODB_URI")
    data_dir.mkdir(parents=True, exist_ok=True)
    log_dir = log_dir or data_dir.parent
    log_dir.mkdir(parents=True, exist_ok=True)
    if docker_answers():
        from testcontainers.community.mongodb import MongoDbContainer

        container = MongoDbContainer(MONGO_IMAGE).with_volume_mapping(str(data_dir.resolve()), "/data/db", "rw")
        container.start()
        uri = container.get_connection_url()
        wait_for(uri)
        return MongoServer(uri, f"testcontainers {MONGO_IMAGE}", container=container)
    port = port or free_port()
    mongod = shutil.which("mongod")
    if mongod:
        cmd = [mongod, "--dbpath", str(data_dir), "--port", str(port), "--bind_ip", "127.0.0.1"]
        kind = "mongod"
    else:
        secantus = Path(sys.executable).parent / "secantusd-py"
        cmd = [
            str(secantus if secantus.exists() else "secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(data_dir),
            "--log-level",
            "WARNING",
        ]
        kind = "SecantusDB"
    log_path = log_dir / "mongodb.log"
    log = log_path.open("ab")
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    if kind == "SecantusDB":
        # Retryable writes are off for the embedded server only: each one leaves a session
        # record it keeps looking through, and its inserts fell from 660/s to 74/s within 12,000
        # writes (flat at 780-890/s without; measured, issue 10). It runs on loopback, where a
        # write's answer is not lost in the network; MongoDB (MONGODB_URI, a container, a
        # mongod) keeps the driver's default, retryable writes on.
        uri += "&retryWrites=false"
    try:
        wait_for(uri, process=process, log_path=log_path)
    except Exception:
        process.kill()
        raise
    return MongoServer(uri, kind, process=process, log_path=log_path)
