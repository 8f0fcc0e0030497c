"""The one error type the domain raises: a stable code and an English explanation."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused an action. ``code`` is stable (clients localize it); ``status`` is HTTP's."""

    def __init__(
        self, code: str, message: str, status: int = 400, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details  # what a client needs to act on it, e.g. when the desk opens


def not_found(what: str = "conversation") -> DomainError:
    """The thing does not exist, or is not the caller's to see."""
    return DomainError("not_found", f"No such {what}.", 404)
