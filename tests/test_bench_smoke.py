"""The benchmark's smoke run (docs/benchmarks.md): every measurement, for a second or two at tiny
sizes, on SQLite, so that the harness cannot rot. It judges no timing: only that each measurement
ran, delivered messages and saw no error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("limit", "throughput", "latency", "conversations", "connections", "weight")

pytestmark = pytest.mark.xdist_group("bench")


def test_the_smoke_runs_every_measurement_and_delivers(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--backend", "sqlite", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())
    assert [s for s in SECTIONS if s not in results] == [], results
    assert "errors" not in results, results["errors"]

    assert results["limit"]["delivered_per_s"] > 0
    throughput = results["throughput"]["sqlite"]
    assert throughput["delivered_per_s"] > 0
    assert throughput["acked_per_s"] > 0
    assert throughput["ratio_to_limit"] > 0
    for rate in results["latency"]["sqlite"]["rates"]:
        assert rate["delivered_per_s"] > 0
        assert rate["p50_ms"] > 0
    steps = results["conversations"]["sqlite"]["steps"]
    assert steps, results["conversations"]
    assert all(step["delivered"] > 0 for step in steps)
    connections = results["connections"]["sqlite"]
    assert connections["held_open"] == connections["target"] > 0
    assert connections["rss_after_mib"] > 0
    weight = results["weight"]
    assert weight["loader"]["gzip"] > 0
    assert weight["chat_frame"]["gzip"] > weight["loader"]["gzip"]
    assert weight["idle_rss_mib"] > 0
