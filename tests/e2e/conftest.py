"""Browser fixtures for the end-to-end tests.

The `live_server` fixture (tests/conftest.py) runs a real node; the demo page is opened on its
`host_url` (localhost) so that the chat frame (127.0.0.1) is cross-origin, as on a customer's site.
Contexts come from pytest-playwright's `new_context`, so a failing test keeps its screenshots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from .actors import Operator, Visitor

expect.set_options(timeout=10_000)


def pytest_configure(config: pytest.Config) -> None:
    """Keep a screenshot of every failing browser test unless told otherwise."""
    if getattr(config.option, "screenshot", None) == "off":
        config.option.screenshot = "only-on-failure"


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """No base URL: tests use the live server's. (pytest-playwright's own fallback fixture is a
    method, which pytest 9 deprecates, and warnings are errors here.)"""
    return None


@pytest.fixture
def watched_context(
    new_context: Callable[..., BrowserContext],
) -> Iterator[Callable[..., BrowserContext]]:
    """pytest-playwright's `new_context`, failing the test on any uncaught script error in any
    page or frame of the contexts it made."""
    errors: list[str] = []

    def make(**kwargs: Any) -> BrowserContext:
        context = new_context(**kwargs)
        context.on("weberror", lambda error: errors.append(str(error.error)))
        return context

    yield make
    assert errors == [], f"script errors in the page: {errors}"


@pytest.fixture
def visitor_context(
    watched_context: Callable[..., BrowserContext],
) -> Callable[..., BrowserContext]:
    """A visitor's browser (Japanese unless told otherwise), allowed to use the clipboard."""

    def make(locale: str = "ja-JP", **kwargs: Any) -> BrowserContext:
        context = watched_context(locale=locale, **kwargs)
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        return context

    return make


@pytest.fixture
def visitor(live_server: Any, visitor_context: Callable[..., BrowserContext]) -> Visitor:
    """A Japanese visitor on the demo page (chat not opened yet)."""
    return Visitor(visitor_context().new_page(), live_server).open_demo()


@pytest.fixture
def make_operator(
    live_server: Any, watched_context: Callable[..., BrowserContext]
) -> Callable[..., Operator]:
    """Create an operator account and log it in, in a browser of its own."""

    def make(
        name: str = "佐藤",
        departments: list[str] | None = None,
        locale: str = "ja-JP",
        online: bool = True,
    ) -> Operator:
        account = live_server.create_operator(name=name, departments=departments or ["support"])
        page = watched_context(locale=locale, viewport={"width": 1280, "height": 800}).new_page()
        operator = Operator(page, live_server, account).login()
        return operator.go_online() if online else operator

    return make
