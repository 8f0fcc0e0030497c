"""``python -m bench [MEASUREMENT …] [--backend …] [--smoke]``: run, print, write JSON.

See docs/benchmarks.md for what each measurement means. ``./scripts/bench`` runs this.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import connections, measures, report, servers
from bench.measures import Options

MEASUREMENTS = ("limit", "throughput", "latency", "conversations", "connections", "weight")
RESULTS = Path(__file__).resolve().parent / "results"

# A few seconds each, tiny sizes: CI runs this so the harness cannot rot; no timing is judged.
SMOKE = {
    "procs": 2,
    "pairs": 4,
    "window": 2,
    "warmup": 0.2,
    "duration": 1.0,
    "drain": 0.5,
    "rates": [40.0],
    "latency_pairs": 4,
    "ramp_start": 4,
    "ramp_step": 4,
    "ramp_max": 8,
    "step_seconds": 1.0,
    "interval": 0.3,
    "p99_limit_ms": 5000.0,
    "connections": 200,
    "connection_batch": 100,
    "hold": 0.2,
    "settle": 0.5,
}


def _smoke_default(name: str) -> str:
    return f", smoke {SMOKE[name]}" if name in SMOKE else ""


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="madoguchi's benchmark (docs/benchmarks.md).",
    )
    parser.add_argument(
        "measurements",
        nargs="*",
        metavar="MEASUREMENT",
        help=f"any of {', '.join(MEASUREMENTS)} (default: all)",
    )
    parser.add_argument(
        "--backend",
        default="sqlite",
        help="sqlite, postgres or redis2 (two nodes on PostgreSQL and Redis); several "
        "comma-separated run (2)–(5) on each (default: sqlite)",
    )
    parser.add_argument("--smoke", action="store_true", help="seconds each, tiny sizes, checked")
    parser.add_argument(
        "--out", type=Path, help="the JSON file (default bench/results/<time>.json)"
    )
    parser.add_argument("--logs", help="keep the servers' logs in this folder")
    group = parser.add_argument_group("sizes and durations")
    defaults = Options(backends=[])
    for name, help_text in (
        ("procs", "load generator processes"),
        ("pairs", "(1, 2) visitor–operator pairs"),
        ("window", "(1, 2) messages outstanding per sender"),
        ("warmup", "seconds of load before a window is counted"),
        ("duration", "(1–3) seconds counted"),
        ("drain", "seconds after a window for messages on their way; later is lost"),
        ("latency_pairs", "(3) pairs sharing the offered rate"),
        ("ramp_start", "(4) conversations at the first step"),
        ("ramp_step", "(4) conversations added per step"),
        ("ramp_max", "(4) stop here (operator accounts: this / 100)"),
        ("step_seconds", "(4) seconds counted per step"),
        ("interval", "(4) seconds between a visitor's messages (±20 %%)"),
        ("p99_limit_ms", "(4) a step holds while p99 stays under this"),
        ("error_limit", "(4) … and errors under this fraction of messages"),
        ("connections", "(5) idle connections to open"),
        ("connection_batch", "(5) opened between two RSS readings"),
        ("server_workers", "(5) serve --workers N (PostgreSQL and Redis above 1)"),
        ("hold", "(5) seconds the connections stay open before the last reading"),
        ("settle", "(6) seconds a fresh node idles before its RSS is read"),
    ):
        default = getattr(defaults, name)
        group.add_argument(
            f"--{name.replace('_', '-')}",
            type=type(default),
            default=None,
            help=f"{help_text} (default {default}{_smoke_default(name)})",
        )
    group.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        default=None,
        help="clients do not offer permessage-deflate (browsers do; default: they offer it)",
    )
    group.add_argument(
        "--no-synchronous-commit",
        dest="synchronous_commit",
        action="store_false",
        default=None,
        help="PostgreSQL: synchronous_commit = off for the bench's database (an experiment: "
        "commits stop waiting for the disk)",
    )
    group.add_argument(
        "--rates", type=_floats, help="(3) offered msg/s, comma-separated (default 100,500,1000)"
    )
    return parser


def options(args: argparse.Namespace) -> Options:
    """The defaults, shrunk by --smoke, overridden by what was given."""
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    for backend in backends:
        if backend not in servers.BACKENDS:
            raise SystemExit(f"bench: unknown backend {backend!r} (sqlite, postgres, redis2)")
    opts = Options(backends=backends, log_dir=args.logs)
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(opts, key, value)
    for key in vars(opts):
        given = getattr(args, key, None)
        if given is not None and key not in ("backends", "log_dir"):
            setattr(opts, key, given)
    return opts


def _attempt(name: str, call: Callable[[], dict[str, Any]], failures: dict[str, str]) -> Any:
    """Run one measurement; a failure is kept in ``failures`` and None returned."""
    began = time.monotonic()
    print(f"bench: {name} …", file=sys.stderr, flush=True)
    try:
        return call()
    except Exception:
        failures[name] = traceback.format_exc(limit=8)
        print(failures[name], file=sys.stderr)
        return None
    finally:
        print(f"bench: {name} took {time.monotonic() - began:.1f}s", file=sys.stderr, flush=True)


def run(wanted: Sequence[str], opts: Options) -> dict[str, Any]:
    """Run the measurements in order; one that fails is recorded and the others still run."""
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}
    if "limit" in wanted or "throughput" in wanted:  # the ratio needs the limit of this run
        found = _attempt("limit", partial(measures.limit, opts), failures)
        if found is not None:
            results["limit"] = found
    for backend in opts.backends:
        calls: dict[str, Callable[[], dict[str, Any]]] = {
            "throughput": partial(measures.throughput, opts, backend, results.get("limit")),
            "latency": partial(measures.latency, opts, backend),
            "conversations": partial(measures.conversations, opts, backend),
            "connections": partial(connections.connections, opts, backend),
        }
        for name, call in calls.items():
            if name in wanted:
                found = _attempt(f"{name} {backend}", call, failures)
                if found is not None:
                    results.setdefault(name, {})[backend] = found
    if "connections" in wanted:  # what the same sockets cost the bare stack
        found = _attempt(
            "connections relay", partial(connections.connections_relay, opts), failures
        )
        if found is not None:
            results.setdefault("connections", {})["relay"] = found
    if "weight" in wanted:  # the files are the same on every backend; the idle RSS is the first's
        found = _attempt("weight", partial(measures.weigh, opts, opts.backends[0]), failures)
        if found is not None:
            results["weight"] = found
    if failures:
        results["errors"] = failures
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when every measurement ran (and, with --smoke, looks sane)."""
    # A SIGTERM unwinds like Ctrl-C does: the servers stop and the databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [m for m in args.measurements if m not in MEASUREMENTS]
    if unknown:
        parser.error(f"unknown measurement {unknown[0]!r} (choose from {', '.join(MEASUREMENTS)})")
    opts = options(args)
    wanted = args.measurements or list(MEASUREMENTS)
    meta = {
        **report.machine(),
        "command": " ".join(["python -m bench", *(argv or sys.argv[1:])]),
        "smoke": args.smoke,
        "options": vars(opts),
    }
    results = run(wanted, opts)
    meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(report.render(results))
    out = args.out or RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, **results}, indent=2, ensure_ascii=False) + "\n")
    print(f"\nbench: results in {out}", file=sys.stderr)
    problems = report.smoke_problems(results) if args.smoke else list(results.get("errors", {}))
    for problem in problems:
        print(f"bench: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
