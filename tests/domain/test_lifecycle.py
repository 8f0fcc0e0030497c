"""The conversation state machine: every transition, and every refusal."""

from __future__ import annotations

import pytest

from madoguchi.domain.conversation import EndReason, Status
from madoguchi.domain.errors import DomainError
from madoguchi.domain.lifecycle import TABLE, Transition, apply, ending_for

ALL = [None, *Status]


@pytest.mark.parametrize(
    ("start", "transition", "end"),
    [
        (None, Transition.START, Status.WAITING),
        (None, Transition.LEAVE_MESSAGE, Status.OFFLINE),
        (Status.WAITING, Transition.ASSIGN, Status.ACTIVE),
        (Status.ACTIVE, Transition.TRANSFER, Status.ACTIVE),
        (Status.ACTIVE, Transition.REQUEUE, Status.WAITING),
        (Status.WAITING, Transition.GIVE_UP_WAITING, Status.OFFLINE),
        (Status.WAITING, Transition.END, Status.ENDED),
        (Status.ACTIVE, Transition.END, Status.ENDED),
        (Status.ACTIVE, Transition.TIME_OUT, Status.ENDED),
        (Status.ACTIVE, Transition.FOLLOW_UP, Status.FOLLOW_UP),
        (Status.WAITING, Transition.FOLLOW_UP, Status.FOLLOW_UP),
        (Status.OFFLINE, Transition.CLOSE, Status.ENDED),
        (Status.FOLLOW_UP, Transition.CLOSE, Status.ENDED),
    ],
)
def test_each_named_transition_leads_where_the_table_says(
    start: Status | None, transition: Transition, end: Status
) -> None:
    assert apply(start, transition) is end


def test_every_transition_not_in_the_table_is_refused_with_a_code() -> None:
    refused = 0
    for transition, (sources, _) in TABLE.items():
        for status in ALL:
            if status in sources:
                continue
            with pytest.raises(DomainError) as caught:
                apply(status, transition)
            refused += 1
            assert caught.value.status == 409
            if status is Status.ENDED:
                assert caught.value.code == "conversation_ended"
            else:
                assert caught.value.code == "illegal_transition"
                assert caught.value.details == {
                    "status": status.value if status else None,
                    "transition": transition.value,
                }
    assert refused > 30


def test_nothing_leaves_the_ended_state() -> None:
    for transition in Transition:
        with pytest.raises(DomainError, match="has ended"):
            apply(Status.ENDED, transition)


def test_the_refusal_says_what_was_tried_in_words() -> None:
    with pytest.raises(DomainError, match="A conversation that is offline cannot give up waiting"):
        apply(Status.OFFLINE, Transition.GIVE_UP_WAITING)


@pytest.mark.parametrize(
    ("status", "reason", "transition"),
    [
        (Status.ACTIVE, EndReason.RESOLVED, Transition.END),
        (Status.ACTIVE, EndReason.OTHER_CHANNEL, Transition.FOLLOW_UP),
        (Status.ACTIVE, EndReason.DEFERRED, Transition.FOLLOW_UP),
        (Status.WAITING, EndReason.VISITOR_LEFT, Transition.END),
        (Status.OFFLINE, EndReason.RESOLVED, Transition.CLOSE),
        (Status.FOLLOW_UP, EndReason.VISITOR_LEFT, Transition.CLOSE),
    ],
)
def test_an_ending_applies_as_its_reason_and_status_say(
    status: Status, reason: EndReason, transition: Transition
) -> None:
    assert ending_for(status, reason) is transition
