"""The schema, as SQLAlchemy Core tables; Alembic migrations (store/migrations) create it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Times stored in UTC and always read back aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

operators = Table(
    "operators",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("status", String(16), nullable=False, server_default="offline"),
    Column("languages", JSON, nullable=False),
    Column("departments", JSON, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("last_assigned_at", UTCDateTime),
    # Last sign of a console: opened, or a heartbeat (docs/routing.md, "Presence").
    Column("seen_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    # sha256 of the cookie's token: a leaked table does not log anyone in.
    Column("id", String(64), primary_key=True),
    Column(
        "operator_id", String(32), ForeignKey("operators.id", ondelete="CASCADE"), nullable=False
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

visitors = Table(
    "visitors",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("visitor_id", String(32), ForeignKey("visitors.id"), nullable=False),
    Column("topic", String(40), nullable=False),
    Column("department", String(40), nullable=False),
    Column("language", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("operator_id", String(32), ForeignKey("operators.id")),
    # The last sequence number handed out; incrementing it is what orders a conversation's events.
    Column("last_seq", Integer, nullable=False),
    Column("prechat", JSON, nullable=False),
    Column("context", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("assigned_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("end_reason", String(32)),
    # When it joined the queue (its place in line); set again when it goes back to the queue.
    Column("queued_at", UTCDateTime),
    # The operator a waiting conversation is offered to, and until when (docs/routing.md).
    Column("offered_to", String(32), ForeignKey("operators.id")),
    Column("offer_expires_at", UTCDateTime),
    # Operators who declined it or let its offer lapse: it is not offered to them again.
    Column("passed_by", JSON),
    # What the limits are measured from (domain/limits.py): any activity, the visitor's last
    # message or typing, the operator's last message; and the ends the warnings announced.
    Column("last_activity_at", UTCDateTime),
    Column("last_visitor_at", UTCDateTime),
    Column("last_operator_at", UTCDateTime),
    Column("warned", JSON),
    # When the live chat became a follow-up (A7, A8).
    Column("follow_up_at", UTCDateTime),
    # The visitor's survey answer (SPEC V12); the comment is content, erased with the rest.
    Column("rating", Integer),
    Column("rating_comment", Text),
    Column("rated_at", UTCDateTime),
    # When retention erased the content (P10): events, pre-chat fields, context, the comment.
    Column("erased_at", UTCDateTime),
    # The member the host app vouched for with a signed token (SPEC V4, docs/identity.md):
    # {member_id, plan, verified_at}; NULL when no token verified. Never typed by the visitor.
    Column("identity", JSON),
    # The visitor's address as the node saw it when the conversation was made: what a network
    # ban covers (SPEC A10). Personal data: retention erases it with the content.
    Column("client_address", String(64)),
    # V9 (docs/email.md, "Away"): the visitor gave an address for mail while they are away, and
    # the last seq known to have reached them (live on a socket, or by an away mail).
    Column("mail_when_away", Boolean, nullable=False, server_default=false()),
    Column("visitor_has_seq", Integer, nullable=False, server_default="0"),
    Index(None, "visitor_id", "status"),
    Index(None, "status", "department", "created_at"),
    Index(None, "operator_id", "status"),
    Index(None, "offered_to"),
    Index(None, "ended_at"),
)

events = Table(
    "events",
    metadata,
    Column("conversation_id", String(32), ForeignKey("conversations.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("author_id", String(32)),
    Column("author_name", String(200)),
    Column("client_id", String(64)),
    Column("body", Text),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # A client's retry carries the same client_id; this makes it a no-op.
    Index(None, "conversation_id", "client_id", unique=True),
)

# Durable timers (services/timers.py, docs/routing.md): a row is a deadline not yet met.
timers = Table(
    "timers",
    metadata,
    # What the timer is for and whose, e.g. "offer:<conversation id>"; scheduling a key again
    # replaces its deadline, so a conversation has at most one timer of each purpose.
    Column("key", String(200), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    # Failed runs so far; each one pushed due_at back.
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "due_at"),
)

# Operators in a chat besides its assigned one: supervisors who joined it (SPEC A9). The
# assigned operator is conversations.operator_id; nobody is in both.
conversation_participants = Table(
    "conversation_participants",
    metadata,
    Column("conversation_id", String(32), ForeignKey("conversations.id"), primary_key=True),
    Column("operator_id", String(32), ForeignKey("operators.id"), primary_key=True),
    Column("joined_at", UTCDateTime, nullable=False),
    Index(None, "operator_id"),
)

# Desk-wide switches an admin flips without a deploy, e.g. "maintenance" (SPEC X5): one row
# each, read by every node.
switches = Table(
    "switches",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_by", String(32)),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Who did what when, for actions on people and secrets (SPEC A10, V15): bans and their lifting,
# secrets revealed. Rows are only ever added; ``data`` holds the action's own details.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", String(32)),  # the operator; None for the system (an expiry, say)
    Column("action", String(40), nullable=False),  # e.g. "ban", "unban", "secret_revealed"
    Column("target", String(200), nullable=False),  # e.g. "visitor:<id>", "secret:<id>"
    Column("data", JSON, nullable=False),
    Index(None, "at"),
    Index(None, "target"),
)

# Secrets a visitor sent for the operator to reveal once (SPEC V15, docs/security.md): only
# AES-GCM ciphertext is stored, and the row is deleted when revealed, expired or the chat ends.
secrets = Table(
    "secrets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("conversation_id", String(32), ForeignKey("conversations.id"), nullable=False),
    Column("label", String(100), nullable=False),  # shown with it; not secret
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "conversation_id"),
)

# Outgoing mail (docs/email.md): a row per mail, written in the transaction that calls for it
# and sent by the outbox's sender after the commit; its id is the mail's Message-ID.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    # What asked for it, e.g. "answer:<event id>": the same request queues one mail only.
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("conversation_id", String(32), ForeignKey("conversations.id")),
    Column("kind", String(40), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("reply_to", String(320)),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    # pending -> sending (claimed until lease_until) -> sent | failed; back to pending on a
    # failure that may pass, with next_attempt_at pushed back.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index(None, "status", "next_attempt_at"),
    Index(None, "conversation_id"),
)

# Bans (SPEC A10, docs/security.md): a visitor id and, optionally, the network they wrote from.
# A ban stops matching when it expires or is lifted; rows stay, for the audit trail.
bans = Table(
    "bans",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("visitor_id", String(32), nullable=False),
    Column("network", String(64)),  # CIDR text, e.g. "203.0.113.0/24"; None: the visitor only
    Column("reason", Text, nullable=False),
    Column("duration", String(16), nullable=False),  # as chosen: "7d", "permanent" …
    Column("conversation_id", String(32)),  # the chat it was made from
    Column("created_by", String(32)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),  # None: for good
    Column("lifted_at", UTCDateTime),
    Column("lifted_by", String(32)),
    Index(None, "visitor_id"),
    Index(None, "network"),
)

# Files shared in a chat (SPEC V6, services/attachments.py). ``name`` is the file's name as
# offered for download; ``kind`` what its first bytes say it is; ``status`` its virus scan.
attachments = Table(
    "attachments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("conversation_id", String(32), ForeignKey("conversations.id"), nullable=False),
    Column("uploader_role", String(16), nullable=False),
    Column("uploader_id", String(32), nullable=False),
    # The uploader's retry carries the same client_id: the file is stored once.
    Column("client_id", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("storage", String(16), nullable=False),  # disk | database: where the bytes are
    Column("status", String(16), nullable=False),  # scanning | clean | infected | refused
    Column("reason", String(32)),  # why it was refused
    Column("signature", String(200)),  # what clamd found
    Column("created_at", UTCDateTime, nullable=False),
    Column("scanned_at", UTCDateTime),
    Index(None, "conversation_id", "client_id", unique=True),
)

# The bytes of attachments kept in the database ([attachments] storage = "database").
attachment_blobs = Table(
    "attachment_blobs",
    metadata,
    Column(
        "attachment_id",
        String(32),
        ForeignKey("attachments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("data", LargeBinary, nullable=False),
)

# The visitor sockets following a conversation whose visitor wants mail when away (V9): kept
# alive by the socket's heartbeats, so a socket that went silent or whose node died lapses on
# its own. ``seen_seq``: the last event sent on it before the client last spoke, i.e. known
# to have reached a live client.
visitor_sockets = Table(
    "visitor_sockets",
    metadata,
    Column("conversation_id", String(32), ForeignKey("conversations.id"), primary_key=True),
    Column("socket_id", String(32), primary_key=True),
    Column("alive_until", UTCDateTime, nullable=False),
    Column("seen_seq", Integer, nullable=False),
)
