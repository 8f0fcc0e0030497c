"""The conversation's rules: who may take it, what may be said, how it may end."""

from __future__ import annotations

import pytest

from madoguchi.domain.conversation import (
    OPERATOR_END_REASONS,
    EndReason,
    Role,
    Status,
    check_can_assign,
    check_can_write,
    check_end_reason,
    check_message_body,
)
from madoguchi.domain.errors import DomainError


def test_the_seven_end_reasons_of_the_seed_page_are_built_in_with_a_deferred_answer() -> None:
    assert [r.value for r in OPERATOR_END_REASONS] == [
        "resolved",
        "other_channel",
        "unrelated",
        "prohibited",
        "unreadable",
        "no_reply",
        "time_limit",
        "deferred",
    ]


def test_a_visitor_always_leaves_whatever_reason_they_give() -> None:
    assert check_end_reason("prohibited", Role.VISITOR) is EndReason.VISITOR_LEFT
    assert check_end_reason("time_limit", Role.OPERATOR) is EndReason.TIME_LIMIT
    for bad in ("", "visitor_left", "RESOLVED", "nope"):
        with pytest.raises(DomainError) as exc:
            check_end_reason(bad, Role.OPERATOR)
        assert exc.value.code == "unknown_reason"


def test_assigning_a_taken_or_ended_conversation_is_refused() -> None:
    check_can_assign(Status.WAITING, None, "o1")
    check_can_assign(Status.ACTIVE, "o1", "o1")  # taking it again is harmless
    with pytest.raises(DomainError) as taken:
        check_can_assign(Status.ACTIVE, "o1", "o2")
    assert (taken.value.code, taken.value.status) == ("already_assigned", 409)
    with pytest.raises(DomainError) as ended:
        check_can_assign(Status.ENDED, None, "o1")
    assert ended.value.code == "conversation_ended"
    with pytest.raises(DomainError):
        check_can_write(Status.ENDED)


def test_message_bodies_are_kept_verbatim() -> None:
    code = "    def f():\n\treturn 1  \n"
    assert check_message_body(code, 100) == code
    assert check_message_body("日本語のメッセージ 🙂", 100) == "日本語のメッセージ 🙂"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "empty_message"),
        (" \n\u3000\t", "empty_message"),
        ("x" * 11, "message_too_long"),
        ("a\x00b", "bad_request"),
    ],
)
def test_bad_bodies_are_refused(body: str, code: str) -> None:
    with pytest.raises(DomainError) as exc:
        check_message_body(body, 10)
    assert exc.value.code == code
