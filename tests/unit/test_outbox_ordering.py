"""The relay's Zeebe side: concurrent across correlation keys, in order within one, stops a key at its first failure."""
import asyncio
import threading
from types import SimpleNamespace

import pytest

from runtime.outbox import OutboxRelay


class RecordingZeebe:
    """Stands in for the pyzeebe client: remembers when each publish started and ended."""

    def __init__(self, failing: set[str] = frozenset()) -> None:
        self.events: list[tuple[str, str]] = []
        self.failing = failing

    async def publish_message(self, *, message_id: str, **_) -> None:
        self.events.append(("start", message_id))
        await asyncio.sleep(0.05)
        if message_id in self.failing:
            raise ConnectionError(f"{message_id} refused")
        self.events.append(("end", message_id))


def row(message_id: str, key: str):
    return SimpleNamespace(id=message_id, key=key, topic="some-message",
                           payload={"message_id": message_id, "variables": {}, "ttl_ms": 1000})


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def relay(zeebe, loop) -> OutboxRelay:
    return OutboxRelay(sessions=None, producer=None, zeebe=zeebe, loop=loop, poll_seconds=0.1)


def test_messages_of_one_key_go_in_order_while_other_keys_go_alongside(loop):
    zeebe = RecordingZeebe()
    outcomes = relay(zeebe, loop)._publish_zeebe_messages(
        [row("a1", "order-a"), row("b1", "order-b"), row("a2", "order-a")])
    assert outcomes == {"a1": None, "b1": None, "a2": None}
    events = zeebe.events
    assert events.index(("end", "a1")) < events.index(("start", "a2"))
    assert events.index(("start", "b1")) < events.index(("end", "a1"))


def test_a_failed_message_holds_back_the_rest_of_its_key_only(loop):
    zeebe = RecordingZeebe(failing={"a1"})
    outcomes = relay(zeebe, loop)._publish_zeebe_messages(
        [row("a1", "order-a"), row("a2", "order-a"), row("b1", "order-b")])
    assert isinstance(outcomes["a1"], ConnectionError)
    assert "a2" not in outcomes and ("start", "a2") not in zeebe.events
    assert outcomes["b1"] is None
