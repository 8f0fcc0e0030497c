"""The Redis bus: pub/sub between nodes (SPEC X2)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub

from madoguchi.bus.base import Bus
from madoguchi.domain.ratelimits import Rule

log = logging.getLogger(__name__)

# domain/ratelimits.decide, for every key of one action at once (one round trip, atomic).
# KEYS: the keys; ARGV: now (ms), then interval and window (ms) per key. Returns the ms to
# wait, or 0 after counting the action in every key. A key lives until its TAT has passed
# plus one window: the TTL is computed from the node's `now`, and a test's stopped clock must
# not see a key vanish under it. Numbers are written with %.0f: Lua would write 1.7e+12.
_HIT = """
local now = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  tats[i] = tat + interval
  local w = tats[i] - window - now
  if w > wait then wait = w end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local ttl = tats[i] - now + tonumber(ARGV[2 * i + 1])
  redis.call('SET', key, string.format('%.0f', tats[i]), 'PX', string.format('%.0f', ttl))
end
return 0
"""


def split_prefix(url: str) -> tuple[str, str]:
    """Take our ``prefix`` query parameter out of a Redis URL (redis-py does not know it)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    prefix = next((value for key, value in query if key == "prefix"), "madoguchi:")
    rest = urlencode([(key, value) for key, value in query if key != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


class RedisBus(Bus):
    """Publishes with PUBLISH; one pub/sub connection per node receives the watched topics.

    Redis pub/sub forgets what it delivers: that is fine here, because the database is the
    truth and clients fill any gap they notice from it by sequence number.
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url, self._prefix = split_prefix(url)
        # A bounded connect, so /readyz answers "not ready" instead of hanging; the URL's own
        # socket_connect_timeout wins when given.
        self._redis: aioredis.Redis = aioredis.from_url(self._url, socket_connect_timeout=5)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._hit_script = self._redis.register_script(_HIT)

    async def start(self) -> None:
        """Open the pub/sub connection and start reading it."""
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        # Always subscribed to something, so the reader never finds the connection idle.
        await self._pubsub.subscribe(f"{self._prefix}_node")
        # redis-py reconnects by itself and re-subscribes in its own connect callback;
        # ours runs after it, on every connect after this first one.
        assert self._pubsub.connection is not None
        self._pubsub.connection.register_connect_callback(self._on_connect)
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    async def close(self) -> None:
        """Stop reading and close the connections."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

    async def publish(self, topic: str, message: bytes) -> None:
        """PUBLISH to every node watching ``topic``."""
        await self._redis.publish(self._prefix + topic, message)

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """PUBLISH them all in one round trip (a batch of messages, services/writer.py)."""
        if len(messages) == 1:
            await self.publish(*messages[0])
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for topic, message in messages:
                pipe.publish(self._prefix + topic, message)
            await pipe.execute()

    async def _hit(self, limits: Sequence[tuple[str, Rule]], now: int) -> int | None:
        keys = [self._prefix + key for key, _ in limits]
        args: list[int] = [now]
        for _, rule in limits:
            args += (rule.interval_ms, rule.window_ms)
        try:
            wait = int(await self._hit_script(keys=keys, args=args))
        except Exception:
            # Limits guard against abuse; chat must not stop when Redis blinks (docs/security.md).
            log.warning("redis bus: rate limits not checked, Redis did not answer", exc_info=True)
            return None
        return wait or None

    async def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def _watch(self, topic: str) -> None:
        assert self._pubsub is not None, "RedisBus.start() was not awaited"
        await self._pubsub.subscribe(self._prefix + topic)

    async def _unwatch(self, topic: str) -> None:
        assert self._pubsub is not None
        await self._pubsub.unsubscribe(self._prefix + topic)

    async def _on_connect(self, _connection: object) -> None:
        log.warning("redis bus: reconnected; followers catch up from the database")
        self._reconnected()

    async def _read(self) -> None:
        assert self._pubsub is not None
        cut = len(self._prefix)
        backoff = 0.1
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] == "message":
                        self._deliver(message["channel"].decode()[cut:], message["data"])
                    backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis bus: reading failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
