"""The ``madoguchi`` command: serve, migrate, user add; check, check-config and hours."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from madoguchi.config import (
    DEFAULT_CONFIG,
    ConfigError,
    DeskConfig,
    Settings,
    find_config_path,
    load_desk_config,
    load_settings,
)
from madoguchi.domain.errors import DomainError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="madoguchi", description="A live-chat support desk.")
    parser.add_argument(
        "--config", help="the TOML file (default: $MADOGUCHI_CONFIG or ./madoguchi.toml)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate the database and run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help="processes (needs PostgreSQL and Redis above 1)"
    )
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate at start")
    serve.add_argument(
        "--forwarded-allow-ips",
        help="proxies whose X-Forwarded-For is believed (default: 127.0.0.1, or "
        "$FORWARDED_ALLOW_IPS); bans and rate limits use the address it gives",
    )

    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("check", help="validate the configuration and exit")
    check_config = commands.add_parser(
        "check-config", help="validate a TOML file alone (no environment, no var/)"
    )
    check_config.add_argument("file")
    hours = commands.add_parser(
        "hours", help="print, as JSON, who answers at an instant and when that next changes"
    )
    # Its own dest: a subcommand's default would overwrite the top-level --config.
    hours.add_argument("--config", dest="hours_config", metavar="FILE", help="the TOML file")
    hours.add_argument(
        "--at", help="an ISO 8601 instant with its offset, e.g. 2026-11-24T10:00:00+09:00"
    )

    user = commands.add_parser("user", help="manage operator accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="create an operator account")
    add.add_argument("email")
    add.add_argument("--name", required=True, help="display name shown to visitors")
    add.add_argument("--role", choices=("operator", "supervisor", "admin"), default="operator")
    add.add_argument("--languages", help="comma-separated, e.g. ja,en (default: all enabled)")
    add.add_argument("--departments", help="comma-separated (default: all)")
    add.add_argument("--capacity", type=int, help="simultaneous chats (default from config)")
    add.add_argument("--password", help="default: $MADOGUCHI_USER_PASSWORD or asked for")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = _parser().parse_args(argv)
    try:
        # These two read only the TOML file: no environment, no database, no var/secret.key.
        if args.command == "check-config":
            load_desk_config(Path(args.file))
            print(f"madoguchi: {args.file} is valid")
            return 0
        if args.command == "hours":
            return _hours(args)
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"madoguchi: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
            print("madoguchi: the database schema is up to date")
            return 0
        if args.command == "check":
            print(f"madoguchi: {settings.config_path or 'the built-in configuration'} is valid")
            return 0
        if args.command == "user":
            return asyncio.run(_user_add(settings, args))
    except DomainError as exc:
        print(f"madoguchi: {exc.message}", file=sys.stderr)
        return 1
    return 2


def _hours(args: argparse.Namespace) -> int:
    """Print, for each department and language, whether it is open at --at and until when."""
    at = datetime.now(UTC)
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            print(f"madoguchi: --at: {args.at!r} is not an ISO 8601 instant", file=sys.stderr)
            return 2
        if at.utcoffset() is None:
            print(
                f"madoguchi: --at: {args.at!r} has no offset; add one, "
                "e.g. 2026-11-24T10:00:00+09:00 or 2026-11-24T01:00:00Z",
                file=sys.stderr,
            )
            return 2
    path = find_config_path(args.hours_config or args.config, dict(os.environ))
    desk = load_desk_config(path or DEFAULT_CONFIG)
    report = {"at": at.isoformat(), "departments": _hours_report(desk, at)}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _hours_report(desk: DeskConfig, at: datetime) -> dict[str, dict[str, Any]]:
    from madoguchi.domain.hours import is_open, next_change

    report: dict[str, dict[str, Any]] = {}
    for dep_id in desk.departments:
        report[dep_id] = {}
        for language in desk.department_languages(dep_id):
            schedule = desk.schedule_for(dep_id, language)
            if schedule is None:  # not served; department_languages leaves those out already
                continue
            change = next_change(schedule, at)
            report[dep_id][language] = {
                "open": is_open(schedule, at),
                # In the schedule's own zone: the offset says which, and it reads as it is kept.
                "next_change": change.astimezone(schedule.time_zone).isoformat()
                if change
                else None,
                "hours": desk.hours_name(dep_id, language),
            }
    return report


async def _migrate(settings: Settings) -> None:
    from madoguchi.store.database import Database
    from madoguchi.store.migrate import upgrade

    db = Database(settings.database_url)
    try:
        await upgrade(db)
    finally:
        await db.close()


async def _first_admin(settings: Settings) -> tuple[str, str] | None:
    from madoguchi.bus import MemoryBus
    from madoguchi.services.auth import ensure_first_admin
    from madoguchi.services.desk import Desk
    from madoguchi.store.database import Database

    db = Database(settings.database_url)
    try:
        return await ensure_first_admin(Desk(settings=settings, db=db, bus=MemoryBus()))
    finally:
        await db.close()


async def _user_add(settings: Settings, args: argparse.Namespace) -> int:
    from madoguchi.bus import MemoryBus
    from madoguchi.services.auth import do_create_operator
    from madoguchi.services.desk import Desk
    from madoguchi.store.database import Database

    password = args.password or os.environ.get("MADOGUCHI_USER_PASSWORD")
    if not password:
        password = getpass.getpass(f"password for {args.email}: ")
    await _migrate(settings)
    db = Database(settings.database_url)
    try:
        operator = await do_create_operator(
            Desk(settings=settings, db=db, bus=MemoryBus()),
            email=args.email,
            name=args.name,
            password=password,
            role=args.role,
            languages=args.languages.split(",") if args.languages else None,
            departments=args.departments.split(",") if args.departments else None,
            capacity=args.capacity,
        )
    finally:
        await db.close()
    print(f"madoguchi: created {operator.role} {operator.email} ({operator.id})")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from madoguchi.web.app import create_app

    if args.workers > 1 and (
        settings.database_url.startswith("sqlite") or settings.bus_url.startswith("memory")
    ):
        print(
            "madoguchi: several workers need PostgreSQL (MADOGUCHI_DATABASE_URL) "
            "and Redis (MADOGUCHI_BUS_URL)",
            file=sys.stderr,
        )
        return 2
    if not os.environ.get("MADOGUCHI_PUBLIC_URL"):
        # Without a public URL the node is where it listens (0.0.0.0 is not a place to go).
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        settings = replace(settings, public_url=f"http://{host}:{args.port}")
    if not args.no_migrate:
        asyncio.run(_migrate(settings))
    admin = asyncio.run(_first_admin(settings))
    print(f"madoguchi: console   {settings.public_url}/console")
    print(f"madoguchi: demo page {settings.public_url.replace('127.0.0.1', 'localhost')}/demo")
    if admin:
        print(f"madoguchi: first admin created: {admin[0]} / {admin[1]}  (shown once; keep it)")
    options = {
        "host": args.host,
        "port": args.port,
        "ws_max_size": settings.desk.limits.frame_max_bytes,
        "log_level": "info",
        "proxy_headers": True,
        # Chat frames are a few hundred bytes: compressing each one costs more CPU than it
        # saves bytes, and its zlib state costs tens of KiB per open socket (docs/benchmarks.md).
        "ws_per_message_deflate": False,
        # The clients' own heartbeats (docs/protocol.md) keep a socket alive and tell a dead one;
        # protocol-level pings from the server on top would only cost each idle socket more.
        "ws_ping_interval": None,
    }
    if args.forwarded_allow_ips:
        options["forwarded_allow_ips"] = args.forwarded_allow_ips
    if args.workers > 1:
        # Worker processes build their own app from the environment.
        if settings.config_path is not None:
            os.environ["MADOGUCHI_CONFIG"] = str(settings.config_path.resolve())
        os.environ["MADOGUCHI_PUBLIC_URL"] = settings.public_url
        uvicorn.run("madoguchi.web.app:app_from_env", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
