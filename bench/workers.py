"""The load generator: worker processes, each with its own event loop and its share of clients.

The orchestrator (``Pool``) sends every worker the same command through a pipe and waits for
all the replies, so the phases of a measurement happen everywhere at once: open the operators'
consoles, open visitor–operator pairs, start a load, measure a window, stop. A message sent by
a visitor in one worker is usually received by an operator in another; both stamp it with the
machine's monotonic clock, which all processes share.

Loads:

- ``closed``: every sender keeps ``window`` messages outstanding (sent, not yet acknowledged),
  visitors and (with ``both``) operators in each of their chats: as fast as the server allows.
- ``rate``: each visitor sends at ``rate`` messages per second, as a Poisson process (the sum
  over visitors is one, at the offered rate); operators only read.
- ``chat``: each visitor writes every ``interval`` seconds (±20 %), starting at a random point
  of the first interval; its operator answers each message 0.5–2 s later.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import multiprocessing
import random
import resource
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from multiprocessing.connection import Connection
from typing import Any

import httpx

from bench import peers
from bench.peers import Peer
from bench.stats import Tally

HEARTBEAT = 25.0  # the server's `heartbeat`: clients ping this often, with 20 % jitter
JITTER = 0.2
SETUP_CONCURRENCY = 16
_ERRORS_KEPT = 5


class Worker(peers.Sink):
    """One process's clients and what they counted."""

    def __init__(self, index: int, kind: str, urls: list[str]) -> None:
        self.index, self.kind, self.urls = index, kind, urls
        self.loop = asyncio.get_running_loop()
        self.rng = random.Random(index)  # noqa: S311 - load timing, not secrets
        self.tally = Tally()
        self.window = (0, 0)
        self.measuring = False
        self.counter = itertools.count()
        self.visitors: list[Peer] = []
        self.operators: list[Peer] = []
        self.idle: list[Peer] = []
        self.tokens: list[tuple[str, str]] = []
        self.mode: str | None = None
        self.params: dict[str, Any] = {}
        self.stop_ns = math.inf
        self.senders: set[asyncio.Task[None]] = set()
        self.background: set[asyncio.Task[None]] = set()
        self.http = httpx.AsyncClient(
            timeout=peers.SETUP_TIMEOUT,
            trust_env=False,
            limits=httpx.Limits(max_connections=SETUP_CONCURRENCY * 2),
        )
        # Source addresses 127.0.0.2–254, in turn: each has its own ~28,000 ephemeral ports.
        self.local_hosts = itertools.cycle(f"127.0.0.{i}" for i in range(2 + index, 255))

    # -- the Sink -------------------------------------------------------------------------

    def _in_window(self, client_id: str) -> bool:
        sent = peers.sent_at(client_id)
        return self.window[0] <= sent < self.window[1]

    def sent(self, direction: str, client_id: str) -> None:
        if self._in_window(client_id):
            getattr(self.tally, direction).sent += 1

    def acked(self, direction: str, client_id: str) -> None:
        if self._in_window(client_id):
            getattr(self.tally, direction).acked += 1

    def delivered(self, direction: str, client_id: str) -> None:
        if self._in_window(client_id):
            way = getattr(self.tally, direction)
            way.delivered += 1
            way.latency.add((time.monotonic_ns() - peers.sent_at(client_id)) / 1000)

    def error(self, code: str) -> None:
        if self.measuring:
            self.tally.errors[code] += 1

    def new_client_id(self, side: str) -> str:
        return f"b{side}{self.index}.{next(self.counter)}.{time.monotonic_ns()}"

    def on_conversation(self, peer: Peer, conv_id: str) -> None:
        if self.mode == "closed" and self.params.get("both"):
            self._sender(self._closed(peer, conv_id))

    def on_message(self, peer: Peer, conv_id: str) -> None:
        if self.mode == "chat" and peer.role == "operator":
            delay = self.rng.uniform(0.5, 2.0)
            self.loop.call_later(delay, lambda: self._spawn(self._answer(peer, conv_id)))

    # -- loads ----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def _sender(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        self.senders.add(task)
        task.add_done_callback(self.senders.discard)

    async def _answer(self, peer: Peer, conv_id: str) -> None:
        if self.mode == "chat" and not peer.closing:
            with contextlib.suppress(Exception):
                await peer.send(conv_id)

    async def _closed(self, peer: Peer, conv_id: str) -> None:
        window = peer.windows[conv_id] = asyncio.Semaphore(int(self.params["window"]))
        while time.monotonic_ns() < self.stop_ns:
            await window.acquire()
            await peer.send(conv_id)

    async def _rate(self, peer: Peer, conv_id: str) -> None:
        rate = float(self.params["rate"])
        due = self.loop.time() + self.rng.expovariate(rate)
        while True:
            delay = due - self.loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.monotonic_ns() >= self.stop_ns:
                return
            await peer.send(conv_id)
            due += self.rng.expovariate(rate)

    async def _chat(self, peer: Peer, conv_id: str) -> None:
        interval = float(self.params["interval"])
        await asyncio.sleep(self.rng.uniform(0, interval))
        while True:
            await peer.send(conv_id)
            await asyncio.sleep(interval * self.rng.uniform(1 - JITTER, 1 + JITTER))

    def _load_visitor(self, peer: Peer) -> None:
        loads: dict[str, Callable[[Peer, str], Coroutine[Any, Any, None]]] = {
            "closed": self._closed,
            "rate": self._rate,
            "chat": self._chat,
        }
        if self.mode in loads:
            for conv_id in peer.conversations:
                self._sender(loads[self.mode](peer, conv_id))

    def _keep_alive(self, peer: Peer) -> None:
        """The apps' heartbeat: a ``ping`` every 25 s ± 20 %, or the server closes the socket."""

        def beat() -> None:
            if not peer.closing:
                self._spawn(_quietly(peer.ping()))
                self.loop.call_later(HEARTBEAT * self.rng.uniform(1 - JITTER, 1), beat)

        self.loop.call_later(HEARTBEAT * self.rng.uniform(1 - JITTER, 1), beat)

    # -- commands -------------------------------------------------------------------------

    async def cmd_operators(self, accounts: list[list[Any]]) -> dict[str, Any]:
        """Open the consoles of these ``[url, email, password]`` (or relay ``[url, convs]``)."""

        async def one(account: list[Any]) -> None:
            if self.kind == "relay":
                peer = await peers.open_relay(self, account[0], "operator", account[1], None)
            else:
                peer = await peers.open_operator(self, account[0], account[1], account[2])
            self.operators.append(peer)
            self._keep_alive(peer)

        return await _bounded([one(a) for a in accounts])

    async def cmd_pairs(self, specs: list[list[Any]]) -> dict[str, Any]:
        """Open one visitor per ``[url, conv_id or None]``: a session and a started chat on
        madoguchi (the conversation id comes from the server), the named one on the relay."""

        async def one(spec: list[Any]) -> None:
            url, conv_id = spec
            local = next(self.local_hosts)
            if self.kind == "relay":
                peer = await peers.open_relay(self, url, "visitor", [conv_id], local)
            else:
                token = await peers.new_visitor_token(self.http, url)
                conv_id = await peers.start_conversation(self.http, url, token)
                peer = await peers.open_visitor(self, url, token, conv_id, local)
            self.visitors.append(peer)
            self._keep_alive(peer)
            self._load_visitor(peer)

        return await _bounded([one(s) for s in specs])

    async def cmd_assigned(self) -> dict[str, Any]:
        """How many chats this worker's operators hold."""
        return {"assigned": sum(len(p.conversations) for p in self.operators)}

    async def cmd_tokens(self, urls: list[str]) -> dict[str, Any]:
        """A visitor session (``POST /api/v1/visitor/session``) per url, kept for ``idle``."""

        async def one(url: str) -> None:
            if self.kind == "relay":  # the relay has no sessions: a socket is all there is
                self.tokens.append((url, ""))
                return
            self.tokens.append((url, await peers.new_visitor_token(self.http, url)))

        return await _bounded([one(u) for u in urls], concurrency=SETUP_CONCURRENCY * 2)

    async def cmd_idle(self, count: int) -> dict[str, Any]:
        """Open ``count`` visitor sockets with tokens made before; they only ping."""
        batch, self.tokens = self.tokens[:count], self.tokens[count:]

        async def one(url: str, token: str) -> None:
            local = next(self.local_hosts)
            if self.kind == "relay":
                peer = await peers.open_relay(self, url, "visitor", [], local)
            else:
                peer = await peers.open_visitor(self, url, token, None, local)
            self.idle.append(peer)
            self._keep_alive(peer)

        reply = await _bounded([one(u, t) for u, t in batch], concurrency=SETUP_CONCURRENCY * 4)
        reply["open"] = sum(not p.closing and p.ws.close_code is None for p in self.idle)
        return reply

    async def cmd_start_load(self, mode: str, params: dict[str, Any]) -> dict[str, Any]:
        """Start a load on every pair, and on pairs opened later."""
        self.mode, self.params, self.stop_ns = mode, params, math.inf
        for peer in self.visitors:
            self._load_visitor(peer)
        if mode == "closed" and params.get("both"):
            for peer in self.operators:
                for conv_id in peer.conversations:
                    self._sender(self._closed(peer, conv_id))
        return {}

    async def cmd_measure(self, start_ns: int, end_ns: int, drain: float, stop: bool) -> Any:
        """Count the messages sent in [start, end]; with ``stop``, senders stop at the end.
        Reply after ``drain`` more seconds, for what was still on its way; with the CPU
        seconds this process used in the window."""
        self.tally, self.window, self.measuring = Tally(), (start_ns, end_ns), True
        if stop:
            self.stop_ns = end_ns
        await _until(start_ns)
        cpu = time.process_time()
        await _until(end_ns)
        cpu = time.process_time() - cpu
        await asyncio.sleep(drain)
        self.measuring = False
        return {**self.tally.to_dict(), "cpu_s": cpu}

    async def cmd_stop_load(self) -> dict[str, Any]:
        """Stop sending; windows are forgotten."""
        self.mode, self.params = None, {}
        for task in tuple(self.senders):
            task.cancel()
        await asyncio.gather(*self.senders, return_exceptions=True)
        for peer in (*self.visitors, *self.operators):
            peer.windows.clear()
        return {}

    async def cmd_close(self) -> dict[str, Any]:
        """Close every socket."""
        await self.cmd_stop_load()
        everyone = [*self.visitors, *self.operators, *self.idle]
        await _bounded([p.close() for p in everyone], concurrency=256)
        for task in tuple(self.background):
            task.cancel()
        await self.http.aclose()
        return {}


async def _until(monotonic_ns: int) -> None:
    await asyncio.sleep(max(0.0, (monotonic_ns - time.monotonic_ns()) / 1e9))


async def _quietly(awaitable: Awaitable[None]) -> None:
    with contextlib.suppress(Exception):
        await awaitable


async def _bounded(
    jobs: list[Coroutine[Any, Any, None]], concurrency: int = SETUP_CONCURRENCY
) -> dict[str, Any]:
    """Run ``jobs`` a few at a time; count the ones that failed and keep their first errors."""
    gate = asyncio.Semaphore(concurrency)
    errors: list[str] = []

    async def run(job: Coroutine[Any, Any, None]) -> bool:
        async with gate:
            try:
                await job
            except Exception as exc:
                if len(errors) < _ERRORS_KEPT:
                    errors.append(f"{type(exc).__name__}: {exc}")
                return False
            return True

    done = await asyncio.gather(*(run(job) for job in jobs))
    return {"done": sum(done), "failed": len(done) - sum(done), "errors": errors}


async def _serve(index: int, conn: Connection, kind: str, urls: list[str]) -> None:
    worker = Worker(index, kind, urls)
    while True:
        command, args = await asyncio.to_thread(conn.recv)
        try:
            reply = await getattr(worker, f"cmd_{command}")(**args)
        except Exception:
            reply = {"exception": traceback.format_exc()}
        conn.send(reply)
        if command == "close":
            return


def worker_main(index: int, conn: Connection, kind: str, urls: list[str], deflate: bool) -> None:
    """A worker process: uvloop when there is one (it is uvicorn's too), commands until close."""
    peers.compression = "deflate" if deflate else None
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(index, conn, kind, urls))
    else:
        uvloop.run(_serve(index, conn, kind, urls))


class WorkerError(Exception):
    """A worker process failed; the message is its traceback."""


class Pool:
    """``procs`` worker processes speaking to ``urls`` (``kind``: ``madoguchi`` or ``relay``)."""

    def __init__(self, procs: int, kind: str, urls: list[str], *, deflate: bool = True) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []
        for index in range(procs):
            parent, child = context.Pipe()
            process = context.Process(
                target=worker_main, args=(index, child, kind, urls, deflate), daemon=True
            )
            process.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(process)

    @property
    def size(self) -> int:
        """How many workers."""
        return len(self.conns)

    def call(self, command: str, args: list[dict[str, Any]], timeout: float = 600) -> list[Any]:
        """Send ``command`` to every worker (``args[i]`` to worker i); wait for every reply."""
        self.send(command, args)
        return self.replies(command, timeout)

    def send(self, command: str, args: list[dict[str, Any]]) -> None:
        """Send ``command`` to every worker; ``replies`` waits for the answers."""
        for conn, kwargs in zip(self.conns, args, strict=True):
            conn.send((command, kwargs))

    def replies(self, command: str, timeout: float = 600) -> list[Any]:
        """Every worker's answer to ``command``, in order."""
        replies = []
        deadline = time.monotonic() + timeout
        for index, conn in enumerate(self.conns):
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise WorkerError(f"worker {index} did not answer {command} in {timeout:.0f}s")
            reply = conn.recv()
            if isinstance(reply, dict) and "exception" in reply:
                raise WorkerError(f"worker {index}, {command}:\n{reply['exception']}")
            replies.append(reply)
        return replies

    def same(self, command: str, timeout: float = 600, **kwargs: Any) -> list[Any]:
        """Send every worker the same arguments."""
        return self.call(command, [kwargs] * self.size, timeout)

    def close(self) -> None:
        """Close every client, then end the processes (killing a worker that hangs)."""
        with contextlib.suppress(Exception):
            self.same("close", timeout=60)
        for process in self.procs:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)
        for conn in self.conns:
            conn.close()


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """``items`` dealt round-robin into ``parts`` lists."""
    return [items[i::parts] for i in range(parts)]
