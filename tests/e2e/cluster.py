"""Airspace at scale on one machine: two ``airspace serve`` nodes and an ``airspace
worker``, each its own process, sharing PostgreSQL, Redis and an S3-compatible store on
loopback, behind nginx with the shipped docs/nginx/airspace-cluster.conf."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx
import redis
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, REDIS_URL
from tests.e2e.processes import free_port

NGINX = Path("/usr/sbin/nginx")
SITE = Path(__file__).parents[2] / "docs" / "nginx" / "airspace-cluster.conf"
NODES = (
    "server 127.0.0.1:8001 max_fails=1 fail_timeout=3s;",
    "server 127.0.0.1:8002 max_fails=1 fail_timeout=3s;",
)
LISTEN = "listen 80;"
HEARTBEAT_SECONDS = 2
"""The cluster's job heartbeat: a killed worker's jobs run again 6 s later."""


@dataclass
class Node:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "airspace", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.base}/api/v1/health", self.log)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)
        self.process = None


@dataclass
class Cluster:
    base: str
    """The balancer: what users reach."""
    nodes: dict[str, Node]
    database_url: str
    worker_env: dict[str, str]
    worker_log: Path
    worker: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    def start_worker(self) -> None:
        handle = self.worker_log.open("ab")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "airspace", "worker", "--workers", "2"],
            env=self.worker_env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )

    def stop_worker(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(sig)
            self.worker.wait(timeout=60)
        self.worker = None

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), params)]
        finally:
            engine.dispose()

    def owner(self, space_id: str) -> str:
        rows = self.query("SELECT owner_node FROM spaces WHERE id = :id", id=space_id)
        return str(rows[0][0])

    def other(self, name: str) -> Node:
        return next(node for node in self.nodes.values() if node.name != name)

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs if p.exists())


def wait_for(url: str, log: Path, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer:\n{log.read_text()[-3000:]}")


def nginx_config(prefix: Path, ports: tuple[int, int], listen: int) -> str:
    site = SITE.read_text()
    for placeholder in (*NODES, LISTEN):
        assert site.count(placeholder) == 1, placeholder
    for placeholder, port in zip(NODES, ports, strict=True):
        site = site.replace(
            placeholder, placeholder.replace(placeholder.split()[1], f"127.0.0.1:{port}")
        )
    (prefix / "airspace.conf").write_text(site.replace(LISTEN, f"listen 127.0.0.1:{listen};"))
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log {prefix / "access.log"};
{temp_paths}
    include {prefix / "airspace.conf"};
}}
"""


@contextmanager
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    schema = f"airspace_cluster_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database_url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    s3_port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    endpoint = f"http://127.0.0.1:{s3_port}"
    boto3.client("s3", endpoint_url=endpoint, **_boto(credentials)).create_bucket(Bucket="media")
    listen = free_port()
    base = f"http://127.0.0.1:{listen}"
    redis_db = REDIS_URL.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(redis_db).flushdb()  # the rig's own: queues and rate limits of old runs
    shared = {
        **os.environ,
        **credentials,
        "AIRSPACE_DATABASE_URL": database_url,
        "AIRSPACE_STORAGE_URL": f"s3://media/spaces-media?endpoint_url={endpoint}&region=us-east-1",
        "AIRSPACE_QUEUE_URL": redis_db,
        "AIRSPACE_EVENTS_URL": redis_db,
        "AIRSPACE_SECRET_KEY": secrets.token_urlsafe(32),
        "AIRSPACE_PUBLIC_URL": base,
        "AIRSPACE_MEDIA_WORKERS": "1",
        # A killed worker's jobs are taken up again after three missed beats: 6 s here.
        "AIRSPACE_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
    }
    shared.pop("AIRSPACE_NODE_ID", None)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    nodes: dict[str, Node] = {}
    for name in ("node-a", "node-b"):
        data = tmp_path / name
        data.mkdir()
        env = {**shared, "AIRSPACE_DATA_DIR": str(data), "AIRSPACE_NODE_ID": name}
        nodes[name] = Node(name, free_port(), env, tmp_path / f"{name}.log")
    worker_dir = tmp_path / "worker"
    worker_dir.mkdir()
    worker_env = {**shared, "AIRSPACE_DATA_DIR": str(worker_dir), "AIRSPACE_NODE_ID": "worker"}
    subprocess.run(
        [sys.executable, "-m", "airspace", "db", "upgrade"],
        env=worker_env,
        check=True,
        capture_output=True,
    )
    ports = (nodes["node-a"].port, nodes["node-b"].port)
    (prefix / "nginx.conf").write_text(nginx_config(prefix, ports, listen))
    balancer = subprocess.Popen(
        [
            str(NGINX),
            "-p",
            str(prefix),
            "-c",
            str(prefix / "nginx.conf"),
            "-g",
            f"daemon off; pid {prefix / 'nginx.pid'}; error_log {prefix / 'error.log'};",
        ],
    )
    rig = Cluster(base, nodes, database_url, worker_env, tmp_path / "worker.log")
    rig.logs = [node.log for node in nodes.values()] + [rig.worker_log, prefix / "error.log"]
    try:
        for node in nodes.values():
            node.start()
        rig.start_worker()
        wait_for(f"{base}/api/v1/health", prefix / "error.log")
        yield rig
    finally:
        for node in nodes.values():
            node.stop()
        rig.stop_worker()
        balancer.terminate()
        balancer.wait(timeout=10)
        s3.stop()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _boto(credentials: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
        "region_name": credentials["AWS_DEFAULT_REGION"],
    }
