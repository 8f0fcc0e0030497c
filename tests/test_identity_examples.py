"""The host-app examples of docs/identity.md, run with the real interpreters, verify on a node."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from conftest import DatabaseFactory
from identity_desk import SECRET, IdentityServer
from madoguchi.domain.identity import check_token
from madoguchi.services.desk import utcnow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "identity"
NODE = shutil.which("node")
COMMANDS = {
    "python": [sys.executable, str(EXAMPLES / "make_token.py")],
    "node": [NODE or "node", str(EXAMPLES / "make_token.mjs")],
}


def _mint(language: str, *args: str) -> str:
    if language == "node" and NODE is None:
        pytest.fail("node is needed to run the JavaScript example (apt-get install nodejs)")
    env = {**os.environ, "MADOGUCHI_IDENTITY_SECRET": SECRET.decode()}
    result = subprocess.run(
        [*COMMANDS[language], *args], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def node(databases: DatabaseFactory) -> Iterator[IdentityServer]:
    live = IdentityServer(databases.new("sqlite")).start()
    yield live
    live.stop()


@pytest.mark.parametrize("language", ["python", "node"])
async def test_the_example_makes_a_token_the_node_verifies(
    language: str, node: IdentityServer
) -> None:
    made = _mint(language, "会員-1001", "business", "15")
    identity = check_token((SECRET,), made, now=utcnow(), max_lifetime=timedelta(minutes=16))
    assert (identity.member_id, identity.plan) == ("会員-1001", "business")
    assert timedelta(minutes=14) < identity.expires_at - utcnow() <= timedelta(minutes=15)
    async with httpx.AsyncClient(base_url=node.url) as client:
        answer = await client.post("/api/v1/visitor/identity", json={"token": made})
    assert answer.json()["verified"] is True
    assert answer.json()["member_id"] == "会員-1001"


@pytest.mark.parametrize("language", ["python", "node"])
async def test_a_token_the_example_makes_for_too_long_is_refused(
    language: str, node: IdentityServer
) -> None:
    made = _mint(language, "M-1", "pro", "120")  # the test desk allows 60 minutes
    async with httpx.AsyncClient(base_url=node.url) as client:
        answer = await client.post("/api/v1/visitor/identity", json={"token": made})
    assert answer.json()["verified"] is False


def test_the_two_examples_sign_the_same_way() -> None:
    python, node = _mint("python", "M-1", "pro"), _mint("node", "M-1", "pro")
    assert python.split(".")[0] == node.split(".")[0] == "v1"
    assert check_token((SECRET,), python, now=utcnow(), max_lifetime=timedelta(minutes=31))
    assert check_token((SECRET,), node, now=utcnow(), max_lifetime=timedelta(minutes=31))
