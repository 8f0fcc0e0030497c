"""A test node whose desk verifies identity tokens and has a plan without chat (SPEC V4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from conftest import TEST_CONFIG, LiveServer
from madoguchi.domain.identity import make_token
from madoguchi.services.desk import utcnow
from madoguchi.web.app import create_app

SECRET = b"identity-secret-for-the-tests-0123456789abcdef"
PREVIOUS = b"the-secret-before-the-rotation-0123456789abcdef"
DOCS_JA = "https://example.com/ja/manual"
DOCS_EN = "https://example.com/en/manual"
FORUM = "https://community.example.com/"
CONFIG = (
    TEST_CONFIG
    + f"""
[identity]
max_lifetime_minutes = 60

[plans]
without_chat = ["lite"]
docs_url = {{ ja = "{DOCS_JA}", en = "{DOCS_EN}" }}
forum_url = "{FORUM}"
"""
)


class IdentityServer(LiveServer):
    """A LiveServer whose node knows ``secrets`` (MADOGUCHI_IDENTITY_SECRET and the previous)."""

    def __init__(
        self,
        database_url: str,
        *,
        secrets: tuple[bytes, ...] = (SECRET,),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(database_url, config=CONFIG, clock=clock)
        self.settings = replace(self.settings, identity_secrets=secrets)
        self.app = create_app(self.settings, clock=clock)
        self.server.config.app = self.app  # uvicorn loads its app when it starts serving


def token(
    member_id: str = "M-1001",
    plan: str = "pro",
    *,
    now: datetime | None = None,
    lifetime: timedelta = timedelta(minutes=30),
    secret: bytes = SECRET,
) -> str:
    """A token as a host app makes it, valid for ``lifetime`` from ``now``."""
    return make_token(secret, member_id, plan, (now or utcnow()) + lifetime)
