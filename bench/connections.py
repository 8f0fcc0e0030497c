"""(5) Connections: idle chat sockets held open against one node, and RSS per socket.

Visitor sessions are made first, then sockets are opened in batches with the node's RSS read
between them, until the target or the first failure; the same sockets are opened to the relay
to show what the bare stack costs (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import time
from typing import Any

from bench import servers
from bench.measures import Options, check_opened, load_pool, log_dir_for, progress
from bench.workers import split


def connections(opts: Options, backend: str) -> dict[str, Any]:
    """(5) Idle visitor sockets (hello, then a ping every ~25 s) to one node, in batches, until
    the target or the first failure; RSS of the node's processes before and after."""
    keep = log_dir_for(opts, f"connections-{backend}")
    with servers.desk(
        backend,
        0,
        workers=opts.server_workers,
        keep_logs=keep,
        synchronous_commit=opts.synchronous_commit,
    ) as desk:
        result = _idle_connections(opts, "madoguchi", desk.nodes[0])
    return {"backend": backend, "server_workers": opts.server_workers, **result}


def connections_relay(opts: Options) -> dict[str, Any]:
    """(5) for the relay: what the same idle sockets cost uvicorn and Starlette alone."""
    with servers.relay() as node:
        return {"backend": "relay", "server_workers": 1, **_idle_connections(opts, "relay", node)}


def _idle_connections(opts: Options, kind: str, node: servers.Node) -> dict[str, Any]:
    """Sessions first, then sockets in batches, reading the node's RSS before and after each."""
    # Each client process stays well under its 20,000 open files.
    procs = max(opts.procs, math.ceil(opts.connections / 15000))
    with load_pool(opts, procs, kind, [node.url]) as pool:
        began = time.monotonic()
        tokens = check_opened(
            pool.call("tokens", [{"urls": u} for u in split([node.url] * opts.connections, procs)]),
            "visitor sessions",
        )
        tokens_s = round(time.monotonic() - began, 1)
        time.sleep(1.0)
        before = node.rss_bytes()
        began = time.monotonic()
        points = [{"connections": 0, "rss_mib": round(before / 2**20, 1)}]
        opened, failures, errors = 0, 0, []
        while opened < tokens:
            count = min(opts.connection_batch, tokens - opened)
            replies = pool.call("idle", [{"count": len(c)} for c in split([0] * count, procs)])
            opened = sum(r["open"] for r in replies)
            failures += sum(r["failed"] for r in replies)
            errors += [e for r in replies for e in r["errors"]]
            progress(f"{opened} connections open, {failures} failed")
            points.append({"connections": opened, "rss_mib": round(node.rss_bytes() / 2**20, 1)})
            if failures:
                break
        connect_s = round(time.monotonic() - began, 1)
        time.sleep(opts.hold)  # held open: a ping or two goes by, nothing is dropped
        after = node.rss_bytes()
        held_open = sum(r["open"] for r in pool.same("idle", count=0))
    per_kib = (after - before) / held_open / 1024 if held_open else None
    return {
        "client_processes": procs,
        "target": opts.connections,
        "opened": opened,
        "held_open": held_open,
        "failed": failures,
        "errors": errors[:5],
        "sessions_s": tokens_s,
        "connect_s": connect_s,
        "rss_before_mib": round(before / 2**20, 1),
        "rss_after_mib": round(after / 2**20, 1),
        "rss_per_connection_kib": None if per_kib is None else round(per_kib, 1),
        "points": points,
    }
