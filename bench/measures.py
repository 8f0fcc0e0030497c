"""The measurements of docs/benchmarks.md, but for the connections (``bench.connections``).

Each starts what it needs (a desk or the relay, the load generator) and stops it again. Every
function takes the parsed options and returns a JSON-able dict; ``bench.report`` prints it.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench import servers, weight
from bench.stats import Histogram, Tally, merged
from bench.workers import Pool, split

CAPACITY = 100  # bench/desk.toml's default_capacity: the chats one operator account takes


@dataclass
class Options:
    """Sizes and durations; ``--smoke`` shrinks them (see ``bench.__main__``)."""

    backends: list[str]
    procs: int = 2
    pairs: int = 50
    window: int = 4
    warmup: float = 2.0
    duration: float = 10.0
    drain: float = 5.0
    rates: list[float] = field(default_factory=lambda: [100.0, 500.0, 1000.0])
    latency_pairs: int = 100
    ramp_start: int = 500
    ramp_step: int = 500
    ramp_max: int = 20000
    step_seconds: float = 40.0
    interval: float = 20.0
    p99_limit_ms: float = 200.0
    error_limit: float = 0.00025
    connections: int = 19000
    connection_batch: int = 1000
    server_workers: int = 1
    hold: float = 30.0
    settle: float = 2.0
    deflate: bool = True
    synchronous_commit: bool = True
    log_dir: str | None = None


def progress(text: str) -> None:
    """A line on stderr while a long measurement runs."""
    print(f"bench:   {text}", file=sys.stderr, flush=True)


def _now_ns() -> int:
    return time.monotonic_ns()


@contextmanager
def load_pool(opts: Options, procs: int, kind: str, urls: list[str]) -> Iterator[Pool]:
    """The load generator's processes for the time of a ``with`` block."""
    pool = Pool(procs, kind, urls, deflate=opts.deflate)
    try:
        yield pool
    finally:
        pool.close()


def check_opened(replies: list[dict[str, Any]], what: str) -> int:
    """How many clients the workers opened; an error naming the first failures if any failed."""
    failed = sum(r["failed"] for r in replies)
    if failed:
        errors = [e for r in replies for e in r["errors"]]
        raise RuntimeError(f"{failed} {what} failed to open: {errors[:5]}")
    return sum(int(r["done"]) for r in replies)


def _open_pairs(pool: Pool, kind: str, urls: list[str], accounts: list[Any], pairs: int) -> None:
    """Consoles first (online, so that each new chat is assigned at once), then visitors; wait
    until the operators' sockets have every chat."""
    consoles: list[list[Any]]
    visitors: list[list[Any]]
    if kind == "relay":
        consoles = [[urls[0], [f"r{i}" for i in range(k, pairs, len(accounts))]] for k in accounts]
        visitors = [[urls[0], f"r{i}"] for i in range(pairs)]
    else:
        consoles = [[urls[i % len(urls)], *account] for i, account in enumerate(accounts)]
        visitors = [[urls[i % len(urls)], None] for i in range(pairs)]
    check_opened(
        pool.call("operators", [{"accounts": a} for a in split(consoles, pool.size)]), "consoles"
    )
    check_opened(pool.call("pairs", [{"specs": s} for s in split(visitors, pool.size)]), "pairs")
    _wait_assigned(pool, pairs)


def _wait_assigned(pool: Pool, expected: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        held = sum(r["assigned"] for r in pool.same("assigned"))
        if held >= expected:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"operators hold {held} chats of {expected} after {timeout:.0f}s")
        time.sleep(0.1)  # the last `assigned` frames are on their way


class _Server(Protocol):
    def cpu_seconds(self) -> float: ...


def _sleep_until(monotonic_ns: int) -> None:
    time.sleep(max(0.0, (monotonic_ns - _now_ns()) / 1e9))


def _measure(
    pool: Pool, server: _Server, opts: Options, duration: float, drain: float, *, stop: bool
) -> tuple[Tally, dict[str, float]]:
    """Count a window of ``duration`` seconds after ``opts.warmup``; and the CPU the server and
    the generator used in it, in percent of one core (200 % is both cores of a 2-core machine)."""
    start = _now_ns() + int(opts.warmup * 1e9)
    end = start + int(duration * 1e9)
    args = {"start_ns": start, "end_ns": end, "drain": drain, "stop": stop}
    pool.send("measure", [args] * pool.size)
    _sleep_until(start)
    before = server.cpu_seconds()
    _sleep_until(end)
    used = server.cpu_seconds() - before
    replies = pool.replies("measure", timeout=duration + drain + 60)
    cpu = {
        "server_cpu_pct": round(100 * used / duration),
        "generator_cpu_pct": round(100 * sum(r["cpu_s"] for r in replies) / duration),
    }
    return merged(replies), cpu


def _directions(tally: Tally, seconds: float, cpu: dict[str, float]) -> dict[str, Any]:
    both = Histogram()
    both.merge(tally.v2o.latency)
    both.merge(tally.o2v.latency)
    sent = tally.v2o.sent + tally.o2v.sent
    return {
        "seconds": seconds,
        "sent": sent,
        "acked": tally.v2o.acked + tally.o2v.acked,
        "delivered": tally.v2o.delivered + tally.o2v.delivered,
        "acked_per_s": round((tally.v2o.acked + tally.o2v.acked) / seconds, 1),
        "delivered_per_s": round((tally.v2o.delivered + tally.o2v.delivered) / seconds, 1),
        "latency": both.summary_ms(),
        "v2o": {
            "sent": tally.v2o.sent,
            "delivered": tally.v2o.delivered,
            **tally.v2o.latency.summary_ms(),
        },
        "o2v": {
            "sent": tally.o2v.sent,
            "delivered": tally.o2v.delivered,
            **tally.o2v.latency.summary_ms(),
        },
        # Sent in the window but not received by the end of the drain: lost, or very late.
        "undelivered": sent - tally.v2o.delivered - tally.o2v.delivered,
        "errors": dict(tally.errors),
        "error_count": tally.error_count,
        "error_rate": round(tally.error_count / sent, 6) if sent else None,
        **cpu,
    }


def _closed_loop(
    pool: Pool, server: _Server, kind: str, urls: list[str], accounts: list[Any], opts: Options
) -> dict[str, Any]:
    _open_pairs(pool, kind, urls, accounts, opts.pairs)
    pool.same("start_load", mode="closed", params={"window": opts.window, "both": True})
    tally, cpu = _measure(pool, server, opts, opts.duration, opts.drain, stop=True)
    pool.same("stop_load")
    return {"pairs": opts.pairs, "window": opts.window, **_directions(tally, opts.duration, cpu)}


def limit(opts: Options) -> dict[str, Any]:
    """(1) The relay with the same clients, pairs and window as the throughput."""
    with servers.relay() as node, load_pool(opts, opts.procs, "relay", [node.url]) as pool:
        accounts: list[Any] = list(range(opts.pairs))
        result = _closed_loop(pool, node, "relay", [node.url], accounts, opts)
        result["server_rss_mib"] = round(node.rss_bytes() / 2**20, 1)
    return result


def throughput(opts: Options, backend: str, ceiling: dict[str, Any] | None) -> dict[str, Any]:
    """(2) N pairs, both sides writing with ``window`` messages outstanding."""
    with servers.desk(
        backend,
        opts.pairs,
        keep_logs=log_dir_for(opts, f"throughput-{backend}"),
        synchronous_commit=opts.synchronous_commit,
    ) as desk:
        with load_pool(opts, opts.procs, "madoguchi", desk.urls) as pool:
            result = _closed_loop(pool, desk, "madoguchi", desk.urls, desk.operators, opts)
        result["server_rss_mib"] = round(desk.rss_bytes() / 2**20, 1)
    result["backend"] = backend
    if ceiling and ceiling.get("delivered_per_s"):
        result["ratio_to_limit"] = round(result["delivered_per_s"] / ceiling["delivered_per_s"], 3)
    return result


def latency(opts: Options, backend: str) -> dict[str, Any]:
    """(3) Visitors write at fixed total rates (Poisson); operators read."""
    steps = []
    with (
        servers.desk(
            backend,
            opts.latency_pairs,
            keep_logs=log_dir_for(opts, f"latency-{backend}"),
            synchronous_commit=opts.synchronous_commit,
        ) as desk,
        load_pool(opts, opts.procs, "madoguchi", desk.urls) as pool,
    ):
        _open_pairs(pool, "madoguchi", desk.urls, desk.operators, opts.latency_pairs)
        for rate in opts.rates:
            params = {"rate": rate / opts.latency_pairs}
            pool.same("start_load", mode="rate", params=params)
            tally, cpu = _measure(pool, desk, opts, opts.duration, opts.drain, stop=True)
            pool.same("stop_load")
            row = _directions(tally, opts.duration, cpu)
            steps.append(
                {
                    "offered_per_s": rate,
                    "sent_per_s": round(tally.v2o.sent / opts.duration, 1),
                    "delivered_per_s": round(tally.v2o.delivered / opts.duration, 1),
                    **tally.v2o.latency.summary_ms(),
                    "errors": row["errors"],
                    "error_count": row["error_count"],
                    **cpu,
                }
            )
    return {
        "backend": backend,
        "pairs": opts.latency_pairs,
        "seconds": opts.duration,
        "rates": steps,
    }


def conversations(opts: Options, backend: str) -> dict[str, Any]:
    """(4) Add conversations step by step while p99 and the error rate hold; the plateau is
    the last step that held."""
    operators = max(1, math.ceil(opts.ramp_max / CAPACITY))
    steps: list[dict[str, Any]] = []
    plateau = 0
    stopped = "ramp_max reached"
    with servers.desk(
        backend,
        operators,
        keep_logs=log_dir_for(opts, f"conversations-{backend}"),
        synchronous_commit=opts.synchronous_commit,
    ) as desk:
        with load_pool(opts, opts.procs, "madoguchi", desk.urls) as pool:
            consoles = [[desk.urls[i % len(desk.urls)], *a] for i, a in enumerate(desk.operators)]
            check_opened(
                pool.call("operators", [{"accounts": a} for a in split(consoles, pool.size)]),
                "consoles",
            )
            pool.same("start_load", mode="chat", params={"interval": opts.interval})
            total = 0
            while total < opts.ramp_max:
                add = min(opts.ramp_start if total == 0 else opts.ramp_step, opts.ramp_max - total)
                began = time.monotonic()
                visitors = [[desk.urls[(total + i) % len(desk.urls)], None] for i in range(add)]
                replies = pool.call("pairs", [{"specs": s} for s in split(visitors, pool.size)])
                failed = sum(r["failed"] for r in replies)
                total += add - failed
                setup_s = round(time.monotonic() - began, 1)
                drain = min(opts.drain, 2.0)
                tally, cpu = _measure(pool, desk, opts, opts.step_seconds, drain, stop=False)
                row = _directions(tally, opts.step_seconds, cpu)
                errors = row["error_count"] + failed
                rate = errors / max(1, row["sent"] + add)
                p99 = row["latency"]["p99_ms"]
                held = (
                    failed == 0
                    and p99 is not None
                    and p99 < opts.p99_limit_ms
                    and rate < opts.error_limit
                )
                steps.append(
                    {
                        "conversations": total,
                        "setup_s": setup_s,
                        "failed_to_open": failed,
                        "held": held,
                        **row,
                        "error_rate": round(rate, 6),
                    }
                )
                progress(
                    f"{backend}: {total} conversations, p99 {p99} ms, {errors} errors, "
                    f"{'held' if held else 'did not hold'}"
                )
                if not held:
                    stopped = (
                        "p99 or errors over the limit" if failed == 0 else "could not open more"
                    )
                    break
                plateau = total
            pool.same("stop_load")
        rss = desk.rss_bytes()
    return {
        "backend": backend,
        "interval_s": opts.interval,
        "step_seconds": opts.step_seconds,
        "p99_limit_ms": opts.p99_limit_ms,
        "error_limit": opts.error_limit,
        "operators": operators,
        "plateau": plateau,
        "stopped": stopped,
        "server_rss_mib": round(rss / 2**20, 1),
        "steps": steps,
    }


def weigh(opts: Options, backend: str) -> dict[str, Any]:
    """(6) The loader and the chat frame's files; RSS of a fresh node that has served nothing."""
    with servers.desk(
        backend,
        0,
        keep_logs=log_dir_for(opts, f"weight-{backend}"),
        synchronous_commit=opts.synchronous_commit,
    ) as desk:
        time.sleep(opts.settle)  # started, migrated, the first admin made: let it settle
        idle = desk.nodes[0].rss_bytes()
        result = weight.measure(desk.urls[0])
    result["idle_rss_mib"] = round(idle / 2**20, 1)
    result["backend"] = backend
    return result


def log_dir_for(opts: Options, name: str) -> Path | None:
    """Where a measurement's server logs are kept (``--logs``), or None."""
    return Path(opts.log_dir) / name if opts.log_dir else None
