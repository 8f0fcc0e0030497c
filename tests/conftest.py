"""Real servers for the tests: uvicorn on a free port, on a fresh database per test.

SQLite databases are copies of one migrated template file; PostgreSQL ones are made with
CREATE DATABASE … TEMPLATE from one migrated template database per test session (and per
xdist worker), and dropped at the end. Redis keys get a prefix of their own per run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import pytest
import redis.asyncio as aioredis
import uvicorn
from hypothesis import settings

from clients import Operator, Socket
from clock import FakeClock
from madoguchi.config import Settings, parse_desk_config
from madoguchi.services.auth import do_create_operator
from madoguchi.services.desk import utcnow
from madoguchi.services.handlers import TIMER_HANDLERS
from madoguchi.services.timers import TimerHandler
from madoguchi.store.database import Database
from madoguchi.store.migrate import upgrade
from madoguchi.store.tables import metadata
from madoguchi.web.app import create_app

if TYPE_CHECKING:
    from mailboxes import Mailbox

T = TypeVar("T")
HERE = Path(__file__).parent

# Hypothesis checks behaviour, not speed: its per-example deadline (200 ms) is a timing assertion
# that a loaded 2-core CI machine fails at random (tests/domain/test_abuse.py once took 285 ms).
settings.register_profile("madoguchi", deadline=None)
settings.load_profile("madoguchi")
TEST_CONFIG = (HERE / "madoguchi.test.toml").read_text(encoding="utf-8")
PG_ADMIN = os.environ.get("MADOGUCHI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("MADOGUCHI_TEST_REDIS", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]
SECRET = b"test-secret-key-test-secret-key-0123456789"
PASSWORD = "correct horse battery"


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run set-up code to completion, even where Playwright's loop already runs this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: once Playwright's sync API has started in a worker, its event loop
    stays running in that thread and asyncio tests can no longer run there. xdist hands each
    worker its items in collection order, so every worker finishes its asyncio tests first."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))


def pg_url(database: str) -> str:
    """The asyncpg SQLAlchemy URL of a database on the test server."""
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def _pg_admin(sql: str) -> None:
    try:
        conn = await asyncpg.connect(PG_ADMIN)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is needed at {PG_ADMIN} ({exc}). Start it with "
            "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', "
            "or point MADOGUCHI_TEST_PG at a server where this user may create databases."
        )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis the bus tests use; fails with how to get one when it does not answer."""

    async def ping() -> None:
        client = aioredis.from_url(REDIS_URL, socket_connect_timeout=3)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        _run(ping())
    except (OSError, aioredis.RedisError) as exc:
        pytest.fail(
            f"Redis is needed at {REDIS_URL} ({exc}). Start it with 'redis-server --daemonize yes "
            '--bind 127.0.0.1 --port 6379 --save "" --appendonly no\', or point '
            "MADOGUCHI_TEST_REDIS at one."
        )
    return REDIS_URL


@pytest.fixture(scope="session")
def worker_id_safe(request: pytest.FixtureRequest) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return f"{RUN_ID}_{worker}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file to copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"

    async def make() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        await db.close()

    _run(make())
    return path


@pytest.fixture(scope="session")
def pg_template(worker_id_safe: str) -> Iterator[str]:
    """A migrated PostgreSQL database to clone; dropped with everything cloned from it."""
    name = f"mdg_tmpl_{worker_id_safe}"
    _run(_pg_admin(f'CREATE DATABASE "{name}"'))

    async def migrate() -> None:
        db = Database(pg_url(name))
        await upgrade(db)
        await db.close()

    _run(migrate())
    yield name
    _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class DatabaseFactory:
    """Empty databases per test on either backend.

    PostgreSQL databases are reused: a test's database is emptied (TRUNCATE, milliseconds)
    and handed to the next test, because creating one takes 0.08 s and dropping one 0.3 s.
    """

    def __init__(self, tmp: Path, sqlite_template: Path, pg_template: str | None, tag: str) -> None:
        self.tmp, self.sqlite_template, self.pg_template, self.tag = (
            tmp,
            sqlite_template,
            pg_template,
            tag,
        )
        self.pg_made: list[str] = []
        self.pg_free: list[str] = []

    def new(self, backend: str) -> str:
        if backend == "sqlite":
            path = self.tmp / f"{uuid.uuid4().hex}.db"
            shutil.copy(self.sqlite_template, path)
            return f"sqlite+aiosqlite:///{path}"
        assert self.pg_template is not None
        if self.pg_free:
            return pg_url(self.pg_free.pop())
        name = f"mdg_{self.tag}_{uuid.uuid4().hex[:8]}"
        _run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_template}"'))
        self.pg_made.append(name)
        return pg_url(name)

    def release(self, url: str) -> None:
        """Empty a PostgreSQL database for the next test (SQLite files are just left)."""
        if not url.startswith("postgresql"):
            return
        name = url.rsplit("/", 1)[1]
        tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)

        async def empty() -> None:
            conn = await asyncpg.connect(url.replace("+asyncpg", "", 1))
            try:
                await conn.execute(f"TRUNCATE {tables} CASCADE")
            finally:
                await conn.close()

        _run(empty())
        self.pg_free.append(name)

    def drop_all(self) -> None:
        for name in self.pg_made:
            _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def make_settings(
    database_url: str, bus_url: str, public_url: str, config: str = TEST_CONFIG
) -> Settings:
    """Settings for a test node."""
    return Settings(
        desk=parse_desk_config(config, source="tests/madoguchi.test.toml"),
        database_url=database_url,
        bus_url=bus_url,
        secret_key=SECRET,
        public_url=public_url,
        config_path=None,
        admin_email="admin@example.com",
        admin_password=None,
        cookie_secure=False,
    )


class LiveServer:
    """A madoguchi node in a thread of this process, on 127.0.0.1 and a free port."""

    def __init__(
        self,
        database_url: str,
        bus_url: str = "memory://",
        config: str = TEST_CONFIG,
        *,
        clock: Callable[[], datetime] = utcnow,
        timer_handlers: Mapping[str, TimerHandler] = TIMER_HANDLERS,
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # The same server under another host name: another origin, as a customer's site is.
        self.host_url = f"http://localhost:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.settings = make_settings(database_url, bus_url, self.url, config)
        self.app = create_app(self.settings, clock=clock, timer_handlers=timer_handlers)
        self.loop = asyncio.new_event_loop()
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                ws_max_size=self.settings.desk.limits.frame_max_bytes,
                lifespan="on",
            )
        )
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))

    def start(self) -> LiveServer:
        self.thread.start()
        started = threading.Event()

        def check() -> None:
            if self.server.started or not self.thread.is_alive():
                started.set()
            else:
                threading.Timer(0.01, check).start()

        check()
        started.wait(15)
        if not self.server.started:
            raise RuntimeError("the test server did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.loop.close()
        self.sock.close()

    def call(self, coro_fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
        """Run a coroutine on the server's loop (for setting things up)."""
        future = asyncio.run_coroutine_threadsafe(coro_fn(*args, **kwargs), self.loop)
        return future.result(15)

    @property
    def desk(self) -> Any:
        return self.app.state.desk

    def create_operator(
        self,
        email: str | None = None,
        name: str = "Sato",
        password: str = PASSWORD,
        role: str = "operator",
        departments: list[str] | None = None,
        languages: list[str] | None = None,
        capacity: int = 3,
    ) -> dict[str, Any]:
        """Create an operator account; returns its fields and password."""
        email = email or f"op-{uuid.uuid4().hex[:8]}@example.com"
        operator = self.call(
            do_create_operator,
            self.desk,
            email=email,
            name=name,
            password=password,
            role=role,
            languages=languages or ["ja", "en"],
            departments=departments or ["support"],
            capacity=capacity,
        )
        return {"id": operator.id, "email": email, "name": name, "password": password}


@pytest.fixture(scope="session")
def databases(
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    worker_id_safe: str,
    request: pytest.FixtureRequest,
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"), sqlite_template, None, worker_id_safe)
    yield factory
    factory.drop_all()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, databases: DatabaseFactory) -> str:
    """Each storage test runs on both backends."""
    if request.param == "postgres" and databases.pg_template is None:
        databases.pg_template = request.getfixturevalue("pg_template")
    return str(request.param)


@pytest.fixture
def server(backend: str, databases: DatabaseFactory) -> Iterator[LiveServer]:
    """A node on a fresh database of each backend, with the in-process bus."""
    live = LiveServer(databases.new(backend)).start()
    yield live
    live.stop()
    databases.release(live.database_url)


@pytest.fixture
def live_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    """A node on a fresh SQLite database, for the browser tests."""
    live = LiveServer(databases.new("sqlite")).start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium: Playwright cannot download its own browsers here."""
    if not Path("/usr/bin/chromium").exists():
        pytest.fail(
            "Chromium is needed at /usr/bin/chromium: apt-get install chromium fonts-ipafont-gothic"
        )
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) collecting every mail the test's node sends."""
    from mailboxes import Mailbox  # it reads this module's TEST_CONFIG

    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def clock() -> FakeClock:
    """The desk's clock, stopped until the test moves it."""
    return FakeClock()


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    """Clients and sockets a test opens, closed at its end."""
    async with AsyncExitStack() as stack:
        yield stack


async def online(
    server: LiveServer, stack: AsyncExitStack, name: str, **kw: Any
) -> tuple[Operator, Socket]:
    """An operator logged in, with the console's socket open, and online."""
    account = server.create_operator(name=name, **kw)
    operator = await stack.enter_async_context(
        Operator(server.url, account["email"], account["password"])
    )
    socket = await operator.connect()
    stack.push_async_callback(socket.close)
    assert (await operator.presence("online")).status_code == 200
    return operator, socket


def fire_timers(server: LiveServer, clock: FakeClock, seconds: float) -> None:
    """Move the clock on and fire every timer that came due, as the scheduler would."""
    clock.advance(seconds=seconds)
    server.call(server.app.state.scheduler.run_due)
