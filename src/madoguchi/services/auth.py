"""Operator accounts, passwords (argon2) and login sessions."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from madoguchi.domain.errors import DomainError
from madoguchi.domain.records import Operator
from madoguchi.services.desk import Desk, operator_topic
from madoguchi.store import operators as repo

SESSION_LIFETIME = timedelta(days=7)
ROLES = ("operator", "supervisor", "admin")
PRESENCES = ("online", "away", "offline")


@cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    # Verified against when the e-mail is unknown, so a wrong e-mail takes as long as a wrong
    # password and the answer says nothing about which accounts exist.
    return hasher, hasher.hash(secrets.token_urlsafe(16))


def _hasher(desk: Desk) -> tuple[PasswordHasher, str]:
    cost = desk.settings.desk.auth
    return _hasher_for(cost.argon2_time_cost, cost.argon2_memory_kib, cost.argon2_parallelism)


def session_id(token: str) -> str:
    """The id a session is stored and told apart by: the hash of its cookie's token.

    Only the hash is stored, so a leaked sessions table logs nobody in.
    """
    return hashlib.sha256(token.encode()).hexdigest()


async def do_create_operator(
    desk: Desk,
    *,
    email: str,
    name: str,
    password: str,
    role: str = "operator",
    languages: Sequence[str] | None = None,
    departments: Sequence[str] | None = None,
    capacity: int | None = None,
) -> Operator:
    """Create an operator account after checking every field against the configuration."""
    config = desk.settings.desk
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise DomainError("bad_request", "The e-mail address is not valid.")
    if not name.strip():
        raise DomainError("bad_request", "The display name is empty.")
    if len(password) < 8:
        raise DomainError("bad_request", "The password must have at least 8 characters.")
    if role not in ROLES:
        raise DomainError("bad_request", f"The role must be one of {', '.join(ROLES)}.")
    languages = list(languages or config.languages.enabled)
    departments = list(departments or config.departments)
    for code in languages:
        if code not in config.languages.enabled:
            raise DomainError("unknown_language", f"Language {code!r} is not enabled.")
    for dep in departments:
        if dep not in config.departments:
            raise DomainError("unknown_department", f"Department {dep!r} is not configured.")
    capacity = capacity if capacity is not None else config.operators.default_capacity
    if not 1 <= capacity <= 100:
        raise DomainError("bad_request", "The capacity must be between 1 and 100.")
    try:
        async with desk.unit() as unit:
            return await repo.insert_operator(
                unit.conn,
                email=email,
                name=name.strip(),
                password_hash=_hasher(desk)[0].hash(password),
                role=role,
                languages=languages,
                departments=departments,
                capacity=capacity,
                now=desk.clock(),
            )
    except IntegrityError:
        raise DomainError("email_taken", "An operator with this e-mail exists.", 409) from None


async def do_login(desk: Desk, email: str, password: str) -> tuple[Operator, str, str]:
    """Check a password and open a session: (operator, session token, CSRF token)."""
    async with desk.db.read() as conn:
        found = await repo.get_login(conn, email)
    hasher, dummy = _hasher(desk)
    hashed = found[1] if found else dummy
    try:
        hasher.verify(hashed, password)
        ok = found is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None:
        raise DomainError("invalid_credentials", "The e-mail or the password is wrong.", 401)
    operator = found[0]
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = desk.clock()
    async with desk.unit() as unit:
        if hasher.check_needs_rehash(hashed):
            await repo.set_password_hash(unit.conn, operator.id, hasher.hash(password))
        await repo.insert_session(
            unit.conn,
            token_hash=session_id(token),
            operator_id=operator.id,
            csrf_token=csrf,
            now=now,
            expires_at=now + SESSION_LIFETIME,
        )
    return operator, token, csrf


async def get_session_operator(desk: Desk, token: str) -> tuple[Operator, str] | None:
    """The operator and CSRF token behind a session cookie, if it is valid."""
    async with desk.db.read() as conn:
        return await repo.get_session(conn, session_id(token), desk.clock())


async def do_logout(desk: Desk, operator_id: str, token: str) -> None:
    """End a session; the console sockets opened with it are closed too, on every node."""
    session = session_id(token)
    async with desk.unit() as unit:
        await repo.delete_session(unit.conn, session)
        unit.publish(operator_topic(operator_id), {"type": "session_ended", "session": session})


async def ensure_first_admin(desk: Desk) -> tuple[str, str] | None:
    """On a desk with no operators, create the first admin; return (e-mail, password) if so.

    The password comes from MADOGUCHI_ADMIN_PASSWORD, or is made up and returned so that
    it can be printed once.
    """
    async with desk.db.read() as conn:
        if await repo.count_operators(conn):
            return None
    settings = desk.settings
    password = settings.admin_password or secrets.token_urlsafe(12)
    try:
        await do_create_operator(
            desk, email=settings.admin_email, name="Admin", password=password, role="admin"
        )
    except DomainError as exc:
        if exc.code == "email_taken":  # another node won the race
            return None
        raise
    return settings.admin_email, password


async def get_operator(desk: Desk, operator_id: str) -> Operator:
    """An operator by id (who must exist)."""
    async with desk.db.read() as conn:
        found = await repo.get_operator(conn, operator_id)
    if found is None:
        raise DomainError("unauthorized", "Your account no longer exists.", 401)
    return found
