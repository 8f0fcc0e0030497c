"""Real ``madoguchi serve`` processes for the tests that need whole nodes (scale-out, kill -9)."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from madoguchi import cli

START_TIMEOUT = 30.0
# `madoguchi serve`, as this virtual environment runs it.
SERVE = (sys.executable, "-m", "madoguchi.cli", "serve")


@dataclass
class Node:
    """One ``madoguchi serve`` process."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_node(name: str, env: Mapping[str, str], logs: Path) -> Node:
    """Start ``madoguchi serve --no-migrate`` on a free port with ``env``; do not wait."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*SERVE, "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
            env={**os.environ, **env, "MADOGUCHI_PUBLIC_URL": url, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Node(name, url, process, log)


def wait_ready(node: Node, deadline: float) -> None:
    """Poll ``/readyz`` until the process serves, dies, or the deadline passes."""
    with httpx.Client(base_url=node.url, timeout=1.0) as http:
        while time.monotonic() < deadline:
            if node.process.poll() is not None:
                pytest.fail(f"{node.name} exited with {node.process.returncode}:\n{node.output()}")
            try:
                if http.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling a starting process, not waiting for an event
    pytest.fail(f"{node.name} was not ready in {START_TIMEOUT:.0f}s:\n{node.output()}")


def stop(nodes: list[Node]) -> None:
    """SIGTERM every node at once (uvicorn shuts down gracefully), then wait; kill stragglers."""
    running = [node for node in nodes if node.process.poll() is None]
    for node in running:
        node.process.terminate()
    for node in running:
        try:
            node.process.wait(10)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(10)


def run_cli(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run the ``madoguchi`` command in this process (its code, not a second interpreter)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        for key, value in env.items():
            patch.setenv(key, value)
        code = cli.main(args)
    return code, out.getvalue(), err.getvalue()
