"""Security: ban evasion (SPEC A10, docs/security.md "Bans").

A banned visitor who comes back with a new visitor id from the same network is refused at every
door (session, chat start, offline message, socket hello), with the neutral ``not_available``;
a visitor on another network is not; a visitor-only ban leaves the network alone; a ban stops
matching when it expires or is lifted. The visitors really come from other loopback addresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from addresses import VisitorAt
from clients import Operator
from clock import FakeClock
from conftest import DatabaseFactory, LiveServer, online

BANNED = "127.0.1.7"  # the first visitor, banned with their network 127.0.1.0/24
SAME_NETWORK = "127.0.1.99"
OTHER_NETWORK = "127.0.2.5"


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


def refused(response: Any) -> None:
    """The neutral answer: 403 not_available, with no word of a ban."""
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "not_available"
    assert "ban" not in response.text.lower()


async def banned_from(
    desk: LiveServer, stack: AsyncExitStack, *, network: bool, duration: str = "1d"
) -> tuple[Operator, VisitorAt, dict[str, Any]]:
    """A visitor at BANNED starts a chat, an operator takes it and bans them."""
    operator, _ = await online(desk, stack, "佐藤")
    visitor = await stack.enter_async_context(VisitorAt(desk.url, BANNED))
    assert (await visitor.session()).status_code == 201
    started = await visitor.start()
    assert started.status_code == 201, started.text
    conv_id = started.json()["id"]
    response = await operator.http.post(
        f"/api/v1/agent/conversations/{conv_id}/ban",
        json={"reason": "暴言が続いたため", "duration": duration, "network": network},
    )
    assert response.status_code == 201, response.text
    return operator, visitor, response.json()


async def test_a_new_visitor_id_from_the_banned_network_is_refused_everywhere(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    _, visitor, ban = await banned_from(desk, stack, network=True)
    assert ban["network"] == "127.0.1.0/24"

    # The banned visitor's chat ended as prohibited; a new one is refused.
    [conv] = await visitor.conversations()
    assert (conv["status"], conv["end_reason"]) == ("ended", "prohibited")
    refused(await visitor.start())
    refused(await visitor.leave_message())

    # Cleared storage, same network: no new visitor session.
    evader = await stack.enter_async_context(VisitorAt(desk.url, SAME_NETWORK))
    refused(await evader.session())

    # A token made on another network and carried back to the banned one does not help.
    elsewhere = await stack.enter_async_context(VisitorAt(desk.url, OTHER_NETWORK))
    assert (await elsewhere.session()).status_code == 201
    evader.token = elsewhere.token
    refused(await evader.start())
    refused(await evader.leave_message())
    socket = await evader.open_socket()
    error = await socket.expect("error")
    assert error["code"] == "not_available"
    assert await socket.closed() == 4403

    # The same token from the other network works: that network is not banned.
    started = await elsewhere.start()
    assert started.status_code == 201, started.text
    socket = await elsewhere.open_socket()
    stack.push_async_callback(socket.close)
    welcome = await socket.expect("welcome")
    assert [c["id"] for c in welcome["conversations"]] == [started.json()["id"]]


async def test_a_banned_visitor_id_is_refused_from_any_network(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    _, visitor, ban = await banned_from(desk, stack, network=False)
    assert ban["network"] is None
    refused(await visitor.start())
    # Their token, carried to another network, is still theirs.
    moved = await stack.enter_async_context(VisitorAt(desk.url, OTHER_NETWORK, visitor.token))
    refused(await moved.start())
    socket = await moved.open_socket()
    assert (await socket.expect("error"))["code"] == "not_available"
    assert await socket.closed() == 4403
    # A visitor-only ban leaves the network alone: a neighbour chats as usual.
    neighbour = await stack.enter_async_context(VisitorAt(desk.url, SAME_NETWORK))
    assert (await neighbour.session()).status_code == 201
    assert (await neighbour.start()).status_code == 201


async def test_another_visitor_chatting_on_the_network_cannot_write_once_it_is_banned(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    neighbour = await stack.enter_async_context(VisitorAt(desk.url, SAME_NETWORK))
    assert (await neighbour.session()).status_code == 201
    started = await neighbour.start()
    assert started.status_code == 201
    await banned_from(desk, stack, network=True)
    response = await neighbour.http.post(
        f"/api/v1/visitor/conversations/{started.json()['id']}/messages",
        headers={"Authorization": f"Bearer {neighbour.token}"},
        json={"client_id": "after-ban", "body": "まだいますか"},
    )
    refused(response)


async def test_an_expired_ban_stops_matching(
    desk: LiveServer, stack: AsyncExitStack, clock: FakeClock
) -> None:
    _, visitor, _ = await banned_from(desk, stack, network=True, duration="1d")
    evader = await stack.enter_async_context(VisitorAt(desk.url, SAME_NETWORK))
    refused(await evader.session())
    clock.advance(seconds=24 * 3600 - 1)
    refused(await evader.session())
    refused(await visitor.start())
    clock.advance(seconds=2)
    assert (await evader.session()).status_code == 201
    assert (await evader.start()).status_code == 201
    assert (await visitor.start()).status_code == 201


async def test_a_lifted_ban_stops_matching_and_a_permanent_one_never_expires(
    desk: LiveServer, stack: AsyncExitStack, clock: FakeClock
) -> None:
    _, visitor, ban = await banned_from(desk, stack, network=True, duration="permanent")
    assert ban["expires_at"] is None
    clock.advance(seconds=3 * 365 * 24 * 3600)
    evader = await stack.enter_async_context(VisitorAt(desk.url, SAME_NETWORK))
    refused(await evader.session())
    account = desk.create_operator(name="鈴木", role="supervisor")
    supervisor = await stack.enter_async_context(
        Operator(desk.url, account["email"], account["password"])
    )
    lifted = await supervisor.http.post(f"/api/v1/agent/bans/{ban['id']}/lift")
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["in_force"] is False
    assert (await evader.session()).status_code == 201
    assert (await visitor.start()).status_code == 201
