"""Identifiers: a short prefix that says what it names, then 16 random URL-safe characters."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    """A fresh id such as ``c_3kq9…``; 96 random bits make collisions a non-issue."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"
