"""Tables for the terminal, the results file, and the smoke's sanity checks."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def table(title: str, headers: list[str], rows: list[list[Any]]) -> str:
    """A plain text table, columns right-aligned but the first."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    return "\n".join(
        [f"\n{title}", line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells]
    )


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


_CPU = ["server CPU %", "load CPU %"]


def _cpu(result: dict[str, Any]) -> list[Any]:
    return [result.get("server_cpu_pct"), result.get("generator_cpu_pct")]


def render(results: dict[str, Any]) -> str:
    """Every measurement in ``results`` as tables."""
    out = []
    flow = [
        "",
        "pairs",
        "acked/s",
        "delivered/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "× limit",
        "errors",
        *_CPU,
    ]
    rows = []
    if "limit" in results:
        r = results["limit"]
        rows.append(
            [
                "limit (relay)",
                r["pairs"],
                r["acked_per_s"],
                r["delivered_per_s"],
                *_pcts(r["latency"]),
                1.0,
                r["error_count"],
                *_cpu(r),
            ]
        )
    for backend, r in results.get("throughput", {}).items():
        rows.append(
            [
                f"throughput {backend}",
                r["pairs"],
                r["acked_per_s"],
                r["delivered_per_s"],
                *_pcts(r["latency"]),
                r.get("ratio_to_limit"),
                r["error_count"],
                *_cpu(r),
            ]
        )
    if rows:
        out.append(
            table(
                "(1, 2) limit and throughput: both sides writing, window of "
                f"{_window(results)} per sender",
                flow,
                rows,
            )
        )
    rows = []
    for backend, r in results.get("latency", {}).items():
        for step in r["rates"]:
            rows.append(
                [
                    backend,
                    step["offered_per_s"],
                    step["sent_per_s"],
                    step["delivered_per_s"],
                    step["p50_ms"],
                    step["p95_ms"],
                    step["p99_ms"],
                    step["max_ms"],
                    step["error_count"],
                    *_cpu(step),
                ]
            )
    if rows:
        out.append(
            table(
                "(3) latency, visitor → operator, at fixed offered rates",
                [
                    "backend",
                    "offered/s",
                    "sent/s",
                    "delivered/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "max ms",
                    "errors",
                    *_CPU,
                ],
                rows,
            )
        )
    for backend, r in results.get("conversations", {}).items():
        rows = [
            [
                s["conversations"],
                s["setup_s"],
                s["delivered_per_s"],
                *_pcts(s["latency"]),
                s["error_count"] + s["failed_to_open"],
                "yes" if s["held"] else "no",
                *_cpu(s),
            ]
            for s in r["steps"]
        ]
        out.append(
            table(
                f"(4) supported conversations, {backend}: a message every ~{r['interval_s']:g} s "
                f"each way; plateau {r['plateau']:,} ({r['stopped']})",
                [
                    "conversations",
                    "setup s",
                    "delivered/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "errors",
                    "held",
                    *_CPU,
                ],
                rows,
            )
        )
    for backend, r in results.get("connections", {}).items():
        out.append(
            table(
                f"(5) idle connections to one node, {backend}, {r['server_workers']} worker(s), "
                f"{r['client_processes']} client processes",
                ["", "value"],
                [
                    ["opened", r["opened"]],
                    ["held open", r["held_open"]],
                    ["failed", r["failed"]],
                    ["RSS before, MiB", r["rss_before_mib"]],
                    ["RSS after, MiB", r["rss_after_mib"]],
                    ["RSS per connection, KiB", r["rss_per_connection_kib"]],
                    ["sessions made in, s", r["sessions_s"]],
                    ["sockets opened in, s", r["connect_s"]],
                ],
            )
        )
    if "weight" in results:
        r = results["weight"]
        frame = r["chat_frame"]
        out.append(
            table(
                "(6) weight (gzip -9; madoguchi serves them uncompressed: "
                f"{'no' if not r['served_compressed'] else 'yes'} compression)",
                ["", "bytes", "gzip"],
                [
                    ["loader /widget.js", r["loader"]["bytes"], r["loader"]["gzip"]],
                    [f"chat frame, {frame['count']} files", frame["bytes"], frame["gzip"]],
                    *[[f"  API {a['path']}", a["bytes"], a["gzip"]] for a in r["api"]],
                    [f"idle server RSS ({r['backend']}), MiB", r["idle_rss_mib"], None],
                ],
            )
        )
    if "errors" in results:
        out.append("\nfailed: " + "; ".join(f"{k}: {v}" for k, v in results["errors"].items()))
    return "\n".join(out)


def _pcts(latency: dict[str, Any]) -> list[Any]:
    return [latency["p50_ms"], latency["p95_ms"], latency["p99_ms"]]


def _window(results: dict[str, Any]) -> Any:
    for r in [results.get("limit"), *results.get("throughput", {}).values()]:
        if r:
            return r["window"]
    return "?"


def machine() -> dict[str, Any]:
    """Where and when the figures were taken."""
    meminfo = Path("/proc/meminfo").read_text().split()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as people run it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit + ("-dirty" if dirty else ""),
        "cpus": os.cpu_count(),
        "memory_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def smoke_problems(results: dict[str, Any]) -> list[str]:
    """What is not sane in a smoke run: nothing delivered, any error. No timing is judged."""
    problems = []
    if "errors" in results:
        problems += [f"{k} failed: {v}" for k, v in results["errors"].items()]
    flows = [("limit", results.get("limit"))]
    flows += [(f"throughput {b}", r) for b, r in results.get("throughput", {}).items()]
    for name, r in flows:
        if r is not None and (r["delivered"] <= 0 or r["error_count"]):
            problems.append(f"{name}: delivered {r['delivered']}, errors {r['errors']}")
    for backend, r in results.get("latency", {}).items():
        for step in r["rates"]:
            if step["delivered_per_s"] <= 0 or step["error_count"]:
                problems.append(f"latency {backend} at {step['offered_per_s']}/s: {step}")
    for backend, r in results.get("conversations", {}).items():
        for step in r["steps"]:
            if step["delivered"] <= 0 or step["error_count"] or step["failed_to_open"]:
                problems.append(f"conversations {backend}: {step}")
    for backend, r in results.get("connections", {}).items():
        if r["failed"] or r["held_open"] != r["target"]:
            problems.append(f"connections {backend}: {r}")
    if "weight" in results:
        r = results["weight"]
        if r["loader"]["gzip"] <= 0 or r["chat_frame"]["count"] < 3 or r["idle_rss_mib"] <= 0:
            problems.append(f"weight: {r}")
    return problems
