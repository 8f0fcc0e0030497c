"""The servers under test, as real processes: madoguchi nodes on a fresh desk, and the relay.

Each measurement gets a desk of its own: a new SQLite file or PostgreSQL database, its operator
accounts made with ``madoguchi user add``, and one or two ``madoguchi serve`` processes (two on
PostgreSQL with a Redis key prefix of their own for ``redis2``). Leaving the ``with`` block
stops the processes and drops the database, whatever happened inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

HERE = Path(__file__).resolve().parent
DESK_CONFIG = HERE / "desk.toml"
PG_ADMIN = os.environ.get("MADOGUCHI_BENCH_PG", "postgresql://root@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("MADOGUCHI_BENCH_REDIS", "redis://127.0.0.1:6379/0")
BACKENDS = ("sqlite", "postgres", "redis2")
PASSWORD = "bench-operator-password"  # noqa: S105 - accounts of a desk deleted after the run
START_TIMEOUT = 60.0
_counter = iter(range(1_000_000))


class ServerError(Exception):
    """A server did not start or an account could not be made; the message has its log."""


@dataclass
class Node:
    """One server process (``madoguchi serve`` or the relay)."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self, tail: int = 4000) -> str:
        """The end of what the process printed."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-tail:]

    def pids(self) -> list[int]:
        """The process and its children (``serve --workers N`` forks N workers)."""
        found = [self.process.pid]
        for pid in _children(self.process.pid):
            found.append(pid)
            found.extend(_children(pid))
        return found

    def rss_bytes(self) -> int:
        """Resident memory of the process and its workers, from /proc/<pid>/status (VmRSS)."""
        return sum(_vm_rss(pid) for pid in self.pids())

    def cpu_seconds(self) -> float:
        """CPU time (user and system) the process and its workers used so far."""
        return sum(_cpu_seconds(pid) for pid in self.pids())


@dataclass
class Desk:
    """The nodes of one desk under test and the operator accounts made on it."""

    backend: str
    nodes: list[Node]
    operators: list[tuple[str, str]] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        """Base URLs of the nodes, in order."""
        return [node.url for node in self.nodes]

    def rss_bytes(self) -> int:
        """Resident memory of every node."""
        return sum(node.rss_bytes() for node in self.nodes)

    def cpu_seconds(self) -> float:
        """CPU time every node used so far."""
        return sum(node.cpu_seconds() for node in self.nodes)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def _vm_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        # After the command name in parentheses: utime and stime are fields 14 and 15.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(name: str, args: list[str], env: dict[str, str], logs: Path, port: int) -> Node:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, with our own arguments
            args,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the bench, which stops it
            preexec_fn=_die_with_parent,  # safe: the bench starts no thread of its own
        )
    return Node(name, f"http://127.0.0.1:{port}", process, log)


def _die_with_parent() -> None:
    """In the child: SIGTERM when the bench dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def _wait_ready(nodes: list[Node]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=2.0, trust_env=False) as http:
        for node in nodes:
            while True:
                if node.process.poll() is not None:
                    raise ServerError(f"{node.name} exited:\n{node.output()}")
                try:
                    if http.get(f"{node.url}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"{node.name} not ready in {START_TIMEOUT:.0f}s:\n{node.output()}"
                    )
                time.sleep(0.05)  # polling a starting process: there is no event to wait for


def _stop(nodes: list[Node]) -> None:
    """SIGTERM every node's process group at once (uvicorn drains), then wait; kill stragglers."""
    running = [node for node in nodes if node.process.poll() is None]
    for node in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.process.pid, signal.SIGTERM)
    for node in running:
        try:
            node.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(10)


def _pg_url(database: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


def _pg_admin(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _make_operators(env: dict[str, str], count: int, logs: Path) -> list[tuple[str, str]]:
    """``madoguchi user add`` for each account, in one interpreter (35 ms each, not 1 s)."""
    emails = [f"op{i:04d}@bench.example" for i in range(count)]
    log = logs / "accounts.log"
    with log.open("wb") as out:
        done = subprocess.run(  # noqa: S603 - this interpreter, with our own arguments
            [sys.executable, "-m", "bench.accounts", *emails],
            env={**os.environ, **env, "MADOGUCHI_USER_PASSWORD": PASSWORD},
            cwd=HERE.parent,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise ServerError("madoguchi user add failed:\n" + log.read_text(errors="replace")[-4000:])
    return [(email, PASSWORD) for email in emails]


@contextmanager
def desk(
    backend: str,
    operators: int,
    *,
    workers: int = 1,
    keep_logs: Path | None = None,
    synchronous_commit: bool = True,
) -> Iterator[Desk]:
    """A fresh desk on ``backend`` with ``operators`` accounts of the support department.

    ``workers`` above 1 runs the (first) node as ``serve --workers N``, which needs PostgreSQL
    and Redis: the bus is then Redis whatever the backend. ``synchronous_commit`` False sets
    it off for the bench's database only: commits stop waiting for the disk (an experiment to
    tell waiting from work, not a setting to run a desk with).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    tmp = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    database = None
    nodes: list[Node] = []
    try:
        env = {
            "MADOGUCHI_CONFIG": str(DESK_CONFIG),
            "MADOGUCHI_SECRET_KEY": secrets.token_urlsafe(32),
            "MADOGUCHI_VAR_DIR": str(tmp / "var"),
            "MADOGUCHI_BUS_URL": "memory://",
        }
        if backend == "sqlite":
            if workers > 1:
                raise ValueError("several workers need --backend postgres or redis2")
            env["MADOGUCHI_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'desk.db'}"
        else:
            database = f"bench_{os.getpid()}_{next(_counter)}_{secrets.token_hex(3)}"
            _pg_admin(f'CREATE DATABASE "{database}"')
            if not synchronous_commit:
                _pg_admin(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
            env["MADOGUCHI_DATABASE_URL"] = _pg_url(database)
        if backend == "redis2" or workers > 1:
            prefix = f"mdg-bench:{os.getpid()}:{secrets.token_hex(4)}:"
            joiner = "&" if "?" in REDIS_URL else "?"
            env["MADOGUCHI_BUS_URL"] = f"{REDIS_URL}{joiner}prefix={prefix}"
        accounts = _make_operators(env, operators, tmp)  # migrates the database first
        for index in range(2 if backend == "redis2" else 1):
            port = free_port()
            args = [sys.executable, "-m", "madoguchi.cli", "serve", "--no-migrate"]
            args += ["--host", "127.0.0.1", "--port", str(port)]
            if workers > 1 and index == 0:
                args += ["--workers", str(workers)]
            node_env = {**env, "MADOGUCHI_PUBLIC_URL": f"http://127.0.0.1:{port}"}
            nodes.append(_start(f"node{index + 1}", args, node_env, tmp, port))
        _wait_ready(nodes)
        yield Desk(backend=backend, nodes=nodes, operators=accounts)
    finally:
        _stop(nodes)
        if database is not None:
            _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for log in tmp.glob("*.log"):
                shutil.copy(log, keep_logs / log.name)
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def relay() -> Iterator[Node]:
    """The relay of ``bench.relay`` on a free port."""
    tmp = Path(tempfile.mkdtemp(prefix="madoguchi-relay-"))
    node = None
    try:
        port = free_port()
        args = [sys.executable, "-m", "bench.relay", "--port", str(port)]
        node = _start("relay", args, {"PYTHONPATH": str(HERE.parent)}, tmp, port)
        _wait_ready([node])
        yield node
    finally:
        if node is not None:
            _stop([node])
        shutil.rmtree(tmp, ignore_errors=True)
