"""The pages: widget loader, chat frame, console, demo host page, catalogs, health."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from madoguchi.domain.conversation import SUPPORTED_LANGUAGES
from madoguchi.domain.errors import DomainError, not_found
from madoguchi.web.deps import DeskDep
from madoguchi.web.errors import error_response, json_response

PACKAGE = Path(__file__).resolve().parent.parent
STATIC = PACKAGE / "static"
TEMPLATES = PACKAGE / "templates"
LOCALES = PACKAGE / "locales"

router = APIRouter(include_in_schema=False)

# img-src blob: shows attachment previews, fetched with the visitor's token (SPEC V6).
_APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


@cache
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _html(body: str, csp: str) -> HTMLResponse:
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": csp,
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


@router.get("/")
async def index() -> RedirectResponse:
    """The root leads to the console."""
    return RedirectResponse("/console")


@router.get("/widget.js")
async def widget() -> FileResponse:
    """The loader a host page embeds with one script tag (SPEC V1)."""
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/chat")
async def chat_frame(desk: DeskDep) -> HTMLResponse:
    """The chat frame: runs in an iframe on our origin, so the host page cannot read it."""
    allowed = " ".join(desk.settings.desk.widget.allowed_origins)
    return _html(_template("chat.html"), f"{_APP_CSP}; frame-ancestors {allowed}")


@router.get("/console")
async def console() -> HTMLResponse:
    """The operators' console; never framed."""
    return _html(_template("console.html"), f"{_APP_CSP}; frame-ancestors 'none'")


@router.get("/demo")
async def demo(request: Request, desk: DeskDep) -> HTMLResponse:
    """A mock hosting control panel with the widget embedded (SPEC X1).

    The widget is loaded from the configured public URL. When the demo is opened under a
    different host name (localhost versus 127.0.0.1) the chat frame is cross-origin to the
    page, as it is on a real customer's site.
    """
    public = desk.settings.public_url
    if urlsplit(public).netloc == request.headers.get("host"):
        # Opened on the public host itself: load the widget from the twin name, so that the
        # frame still runs on another origin than the page.
        twin = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
        parts = urlsplit(public)
        host = parts.hostname or ""
        if host in twin:
            public = public.replace(host, twin[host], 1)
    page = Template(_template("demo.html")).substitute(widget_src=f"{public}/widget.js")
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get("/demo/{page}")
async def demo_policy(page: str, desk: DeskDep) -> HTMLResponse:
    """Stand-ins for the company's chat policy and privacy policy pages, linked from consent."""
    if page not in ("policy", "privacy"):
        raise not_found("page")
    return HTMLResponse(_template(f"demo-{page}.html"))


@router.get("/locales/{lang}.json")
async def catalog(lang: str) -> Response:
    """A translation catalog for the browser apps."""
    if lang not in SUPPORTED_LANGUAGES or not (LOCALES / f"{lang}.json").exists():
        raise DomainError("not_found", f"No catalog for {lang!r}.", 404)
    return FileResponse(
        LOCALES / f"{lang}.json",
        media_type="application/json",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(desk: DeskDep) -> Response:
    """Ready: the database and the bus answer."""
    db_ok = await desk.db.ping()
    bus_ok = await desk.bus.ping()
    if db_ok and bus_ok:
        return json_response({"status": "ok", "database": "ok", "bus": "ok"})
    return error_response(
        503,
        "not_ready",
        "The node cannot serve: "
        + ", ".join(name for name, ok in (("database", db_ok), ("bus", bus_ok)) if not ok)
        + " unreachable.",
    )
