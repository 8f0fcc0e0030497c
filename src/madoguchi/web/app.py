"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from madoguchi.bus import create_bus
from madoguchi.config import Settings
from madoguchi.mail.inbound import Receiver
from madoguchi.mail.sender import Mailer
from madoguchi.mail.transport import create_transport
from madoguchi.services import presence, retention
from madoguchi.services.desk import Desk, utcnow
from madoguchi.services.handlers import TIMER_HANDLERS
from madoguchi.services.queue import QueueBoard
from madoguchi.services.timers import Scheduler, TimerHandler
from madoguchi.services.writer import MessageWriter
from madoguchi.store.database import Database
from madoguchi.web import (
    agent,
    attachments,
    bans,
    identity,
    pages,
    sockets,
    surveys,
    transcripts,
    visitor,
)
from madoguchi.web import email as email_routes
from madoguchi.web import secrets as secret_routes
from madoguchi.web.errors import install_error_handlers
from madoguchi.web.hub import Hub


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    timer_handlers: Mapping[str, TimerHandler] = TIMER_HANDLERS,
) -> FastAPI:
    """Build the app; the database, the bus and the timer loop are started in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        bus = create_bus(settings.bus_url)
        await bus.start()
        app.state.desk = Desk(settings=settings, db=db, bus=bus, clock=clock)
        app.state.hub = Hub(bus)
        app.state.queue_board = QueueBoard(app.state.desk)
        app.state.consoles = app.state.desk.consoles  # operator id -> consoles open here
        app.state.desk.writer = MessageWriter(app.state.desk)
        app.state.scheduler = Scheduler(app.state.desk, timer_handlers)
        await retention.do_ensure_purge(app.state.desk)
        await presence.do_give_consoles_time(app.state.desk)
        await app.state.scheduler.start()
        app.state.mailer = Mailer(app.state.desk, create_transport(settings.desk.email))
        await app.state.mailer.start()
        app.state.mail_receiver = Receiver(app.state.desk)
        if settings.desk.email.inbound.enabled:
            await app.state.mail_receiver.start()
        try:
            yield
        finally:
            await app.state.mail_receiver.stop()
            await app.state.mailer.stop()
            await app.state.scheduler.stop()
            await app.state.desk.writer.stop()
            await app.state.desk.drain()  # nothing may hold a transaction as the pool closes
            await bus.close()
            await db.close()

    app = FastAPI(
        title="madoguchi",
        version="0.1.0",
        summary="A live-chat support desk. WebSocket protocol: docs/protocol.md.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(visitor.router)
    app.include_router(email_routes.agent_router)
    app.include_router(email_routes.visitor_router)
    app.include_router(identity.router)
    app.include_router(agent.router)
    app.include_router(bans.router)
    app.include_router(transcripts.router)
    app.include_router(surveys.router)
    app.include_router(attachments.router)
    app.include_router(secret_routes.visitor_router)
    app.include_router(secret_routes.agent_router)
    app.include_router(pages.router)
    app.add_api_websocket_route("/ws/visitor", sockets.visitor_socket)
    app.add_api_websocket_route("/ws/agent", sockets.agent_socket)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    return app


def app_from_env() -> FastAPI:
    """The app from the environment; what ``uvicorn --factory`` and worker processes load."""
    from madoguchi.config import load_settings

    return create_app(load_settings())
