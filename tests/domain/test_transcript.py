"""The transcript's text (SPEC V11): what the visitor saw, in their words and their time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.errors import DomainError
from madoguchi.domain.records import Conversation, Event
from madoguchi.domain.transcript import (
    check_not_erased,
    check_time_zone,
    operator_names,
    render_transcript,
    transcript_filename,
    visible_events,
)
from madoguchi.i18n import get_catalog, translator

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo, 11:00 in Berlin
NOTE = "返金は承認済み。お客様には伝えないこと"
TOKYO, BERLIN = ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/Berlin")
JA = get_catalog("ja")


def conversation(**changes: Any) -> Conversation:
    values: dict[str, Any] = {
        "id": "c_abc123",
        "visitor_id": "v_1",
        "topic": "technical",
        "department": "support",
        "language": "ja",
        "status": Status.ENDED,
        "operator_id": "o_1",
        "operator_name": "佐藤",
        "last_seq": 0,
        "created_at": START,
        "assigned_at": START,
        "ended_at": START + timedelta(minutes=10),
        "end_reason": "resolved",
    }
    values.update(changes)
    return Conversation(**values)


class Log:
    """Events of one conversation, a minute apart unless told otherwise."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.at = START

    def add(
        self,
        kind: EventKind | str,
        role: Role = Role.SYSTEM,
        *,
        name: str | None = None,
        body: str | None = None,
        after: timedelta = timedelta(minutes=1),
        **data: Any,
    ) -> Log:
        seq = len(self.events) + 1
        self.events.append(
            Event(
                conversation_id="c_abc123",
                seq=seq,
                id=f"e_{seq}",
                kind=str(kind),
                author_role=role,
                author_id=None,
                author_name=name,
                client_id=None,
                body=body,
                data=data,
                created_at=self.at,
            )
        )
        self.at += after
        return self


def a_chat() -> Log:
    return (
        Log()
        .add(EventKind.CREATED, Role.VISITOR, topic="technical")
        .add(EventKind.MESSAGE, Role.VISITOR, body="サーバーに接続できません。")
        .add(EventKind.ASSIGNED, operator={"name": "佐藤"})
        .add(EventKind.NOTE, Role.OPERATOR, name="佐藤", body=NOTE)
        .add(EventKind.TIME_NOTICE, ends_at="2026-04-01T09:30:00Z")
        .add(EventKind.MESSAGE, Role.OPERATOR, name="佐藤", body="確認いたします。")
        .add(EventKind.ENDED, reason="resolved", by="operator")
    )


def render(
    log: Log, *, zone: ZoneInfo = TOKYO, lang: str = "ja", reader: Role = Role.VISITOR
) -> str:
    return render_transcript(
        conversation(language=lang),
        log.events,
        zone=zone,
        t=translator(lang),
        reader=reader,
        language=lang,
        company="madoguchi",
        topic_label="技術的な質問" if lang == "ja" else "I need technical support",
    )


def test_the_visitor_reads_a_header_then_every_line_with_its_time() -> None:
    assert render(a_chat()) == (
        "madoguchi チャット履歴\n"
        "日付：2026-04-01\n"
        "タイムゾーン：Asia/Tokyo\n"
        "お問い合わせ内容：技術的な質問\n"
        "オペレーター：佐藤\n"
        "お問い合わせ番号：c_abc123\n"
        "\n"
        "[18:00] * チャットを開始しました（技術的な質問）\n"
        "[18:01] あなた: サーバーに接続できません。\n"
        "[18:02] * 佐藤がチャットに参加しました\n"
        "[18:05] 佐藤: 確認いたします。\n"
        f"[18:06] * {JA['ended.resolved']}\n"
    )


@pytest.mark.parametrize("reader", [Role.VISITOR, Role.OPERATOR])
def test_private_notes_and_the_time_limit_countdown_never_appear(reader: Role) -> None:
    text = render(a_chat(), reader=reader)
    assert NOTE not in text
    assert "09:30" not in text
    assert "18:30" not in text
    assert [e.kind for e in visible_events(a_chat().events)] == [
        "created",
        "message",
        "assigned",
        "message",
        "ended",
    ]


def test_warnings_still_here_and_kinds_not_known_yet_are_left_out() -> None:
    log = (
        Log()
        .add(EventKind.WARNING, limit="idle", ends_at="2026-04-01T09:20:00Z")
        .add(EventKind.STILL_HERE, Role.VISITOR)
        .add(EventKind.WARNING_CLEARED, limit="idle")
        .add("attachment_scanned", body="secret.pdf")
        .add("hidden")
        .add(EventKind.MESSAGE, Role.VISITOR, body="まだいます")
    )
    lines = render(log).split("\n\n", 1)[1].splitlines()
    assert lines == ["[18:05] あなた: まだいます"]


def test_times_are_in_the_zone_asked_for_and_the_date_line_follows_midnight() -> None:
    log = Log().add(EventKind.MESSAGE, Role.VISITOR, body="Hello", after=timedelta(hours=6))
    log.add(EventKind.MESSAGE, Role.OPERATOR, name="Sato", body="Hi")
    berlin = render(log, zone=BERLIN, lang="en")
    tokyo = render(log, zone=TOKYO, lang="en")
    assert "[11:00] You: Hello\n[17:00] Sato: Hi\n" in berlin
    assert "Date: 2026-04-01\nTime zone: Europe/Berlin\n" in berlin
    # 15:00 UTC is past midnight in Tokyo: the new date goes first.
    assert "[18:00] You: Hello\n--- 2026-04-02 ---\n[00:00] Sato: Hi\n" in tokyo
    assert transcript_filename(conversation(), TOKYO) == "chat-2026-04-01-c_abc123.txt"
    late = conversation(created_at=datetime(2026, 4, 1, 16, 0, tzinfo=UTC))
    assert transcript_filename(late, TOKYO) == "chat-2026-04-02-c_abc123.txt"
    assert transcript_filename(late, BERLIN) == "chat-2026-04-01-c_abc123.txt"


def test_a_multi_line_message_keeps_its_lines_indented_under_the_first() -> None:
    body = (
        'エラーが出ます:\r\nTraceback (most recent call last):\n  File "app.py", line 3\n\n終わり'
    )
    text = render(Log().add(EventKind.MESSAGE, Role.VISITOR, body=body))
    assert text.endswith(
        "[18:00] あなた: エラーが出ます:\n"
        "        Traceback (most recent call last):\n"
        '          File "app.py", line 3\n'
        "\n"
        "        終わり\n"
    )


def test_japanese_and_other_scripts_are_kept_exactly() -> None:
    body = "文字化けしていません：①②③ 〜 ｶﾀｶﾅ 🙂 <script>"
    text = render(Log().add(EventKind.MESSAGE, Role.VISITOR, body=body))
    assert f"あなた: {body}\n" in text


def test_an_operator_reads_visitor_and_the_reason_as_operators_name_it() -> None:
    text = render(a_chat(), reader=Role.OPERATOR, lang="en")
    assert "[18:01] Visitor: サーバーに接続できません。" in text
    assert text.endswith("[18:06] * Chat ended: Resolved\n")
    assert "You:" not in text


def test_transfers_are_told_as_the_reader_was_told() -> None:
    department = {"ja": "営業", "en": "Sales"}
    log = (
        Log()
        .add(EventKind.ASSIGNED, operator={"name": "佐藤"})
        .add(EventKind.TRANSFERRED, **{"from": {"name": "佐藤"}, "to": {"name": "鈴木"}})
        .add(
            EventKind.TRANSFERRED,
            to=None,
            department="sales",
            department_name=department,
            **{"from": {"name": "鈴木"}},
        )
        .add(EventKind.ASSIGNED, operator={"name": "Smith"})
        .add(EventKind.FOLLOW_UP, reason="deferred", by="operator")
    )
    visitor = render(log).split("\n\n", 1)
    assert "オペレーター：佐藤、鈴木、Smith" in visitor[0]
    assert visitor[1].splitlines()[1:3] == [
        "[18:01] * 担当を鈴木に引き継ぎます。",
        "[18:02] * " + JA["transferred.department"].format(department="営業"),
    ]
    assert visitor[1].splitlines()[4].startswith("[18:04] * チャットでのご対応は終了いたしました。")
    operator = render(log, reader=Role.OPERATOR, lang="en").split("\n\n", 1)
    assert "Operators: 佐藤, 鈴木, Smith" in operator[0]
    assert operator[1].splitlines()[1:3] == [
        "[18:01] * 佐藤 transferred the chat to 鈴木",
        "[18:02] * 鈴木 transferred the chat to Sales",
    ]
    assert operator_names(log.events) == ["佐藤", "鈴木", "Smith"]


def test_a_chat_nobody_took_says_so_in_the_header() -> None:
    log = (
        Log()
        .add(EventKind.MESSAGE, Role.VISITOR, body="Hello")
        .add(EventKind.OFFLINE, reason="no_operator")
    )
    text = render(log, lang="en")
    assert "Operators: none\n" in text
    assert text.endswith(
        "[18:01] * No operator could take your chat in time. Your message has been kept and we "
        "will answer it.\n"
    )


@pytest.mark.parametrize(
    "bad", ["", "Mars/Olympus", "../../etc/passwd", "Asia/Tokyo\x00", "x" * 65]
)
def test_a_time_zone_must_be_an_iana_name(bad: str) -> None:
    with pytest.raises(DomainError) as exc:
        check_time_zone(bad)
    assert (exc.value.code, exc.value.status) == ("bad_time_zone", 400)
    assert check_time_zone("Europe/Berlin") == BERLIN


def test_an_erased_conversation_has_no_transcript() -> None:
    check_not_erased(conversation())
    with pytest.raises(DomainError) as exc:
        check_not_erased(conversation(erased_at=START + timedelta(hours=1)))
    assert (exc.value.code, exc.value.status) == ("erased", 410)
