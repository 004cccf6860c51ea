"""The relay's ordering rules: per key in write order, keys alongside each other, one failing key alone."""
import asyncio
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from confluent_kafka import KafkaError, KafkaException
from pyzeebe.errors import ZeebeBackPressureError

from shared.runtime.relay import AdaptiveLimit, KafkaLane, ZeebeLane, next_in_line, remaining_ttl_ms

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


class RecordingZeebe:
    """Stands in for the pyzeebe client: remembers when each publish started and ended."""

    def __init__(self, failing: set[str] = frozenset(), pushing_back: int = 0) -> None:
        self.events: list[tuple[str, str]] = []
        self.failing = failing
        self.pushing_back = pushing_back
        self.ttls: dict[str, int] = {}

    async def publish_message(self, *, message_id: str, time_to_live_in_milliseconds: int, **_) -> None:
        if self.pushing_back:
            self.pushing_back -= 1
            raise ZeebeBackPressureError(grpc_error=None)
        self.events.append(("start", message_id))
        await asyncio.sleep(0.05)
        if message_id in self.failing:
            raise ConnectionError(f"{message_id} refused")
        self.ttls[message_id] = time_to_live_in_milliseconds
        self.events.append(("end", message_id))


def row(seq: int, message_id: str, key: str, written_ago: timedelta = timedelta(0), ttl_ms: int = 60_000):
    return SimpleNamespace(seq=seq, key=key, topic="some-message", created_at=NOW - written_ago, claimed_at=NOW,
                           payload={"message_id": message_id, "variables": {}, "ttl_ms": ttl_ms})


def publish(zeebe, rows) -> dict[int, str]:
    lane = ZeebeLane(sessions=None, zeebe=zeebe, loop=None, poll_seconds=0.1)
    return asyncio.run(lane.publish_all(rows))


def test_messages_of_one_key_go_in_order_while_other_keys_go_alongside():
    zeebe = RecordingZeebe()
    failed = publish(zeebe, [row(1, "a1", "order-a"), row(2, "b1", "order-b"), row(3, "a2", "order-a")])
    assert failed == {}
    events = zeebe.events
    assert events.index(("end", "a1")) < events.index(("start", "a2"))
    assert events.index(("start", "b1")) < events.index(("end", "a1"))


def test_a_failed_message_holds_back_the_rest_of_its_key_only():
    zeebe = RecordingZeebe(failing={"a1"})
    failed = publish(zeebe, [row(1, "a1", "order-a"), row(2, "a2", "order-a"), row(3, "b1", "order-b")])
    assert set(failed) == {1, 2} and "a1 refused" in failed[1]
    assert ("start", "a2") not in zeebe.events
    assert ("end", "b1") in zeebe.events


def test_back_pressure_slows_publishing_down_instead_of_failing_the_batch():
    zeebe = RecordingZeebe(pushing_back=5)
    failed = publish(zeebe, [row(1, "a1", "order-a"), row(2, "b1", "order-b")])
    assert failed == {}
    assert {("end", "a1"), ("end", "b1")} <= set(zeebe.events)


def test_a_message_lives_only_as_long_as_its_ttl_counted_from_when_it_was_written():
    zeebe = RecordingZeebe()
    publish(zeebe, [row(1, "a1", "order-a", written_ago=timedelta(seconds=20), ttl_ms=60_000)])
    assert zeebe.ttls["a1"] == 40_000
    assert remaining_ttl_ms(row(2, "a2", "order-a", written_ago=timedelta(minutes=2)), NOW) < 0


def test_a_key_whose_earlier_row_another_relay_holds_waits_for_it():
    # Rows 1 and 4 of order-a are pending; this relay locked 2..4 only (another holds 1).
    waiting = [("order-a", 1), ("order-b", 2), ("order-b", 3), ("order-a", 4)]
    assert next_in_line(waiting, mine={2, 3, 4}) == {2, 3}
    assert next_in_line(waiting, mine={1, 2, 3, 4}) == {1, 2, 3, 4}
    # A gap inside a key: its rows after the gap wait too.
    assert next_in_line([("k", 1), ("k", 2), ("k", 3)], mine={1, 3}) == {1}


def test_the_limit_halves_on_back_pressure_and_grows_back_one_by_one():
    limit = AdaptiveLimit(initial=16, maximum=20)
    limit.pushed_back()
    limit.pushed_back()
    assert limit.limit == 4
    for _ in range(30):
        limit.succeeded()
    assert limit.limit == 20
    for _ in range(10):
        limit.pushed_back()
    assert limit.limit == 1


class RecordingProducer:
    """Stands in for the Kafka producer: acknowledges on flush what it was given, except the events named failing
    (a delivery error) or refused (produce raises, as for a record too large)."""

    def __init__(self, failing: set[str] = frozenset(), refused: set[str] = frozenset()) -> None:
        self.failing = failing
        self.refused = refused
        self.produced: list[str] = []
        self.acknowledged: list[str] = []
        self.pending: list[tuple[str, object]] = []

    def produce(self, _topic, *, key, value, headers, on_delivery) -> None:
        event_id = dict(headers)["ce_id"].decode()
        if event_id in self.refused:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        self.produced.append(event_id)
        self.pending.append((event_id, on_delivery))

    def flush(self, _timeout=None) -> int:
        for event_id, on_delivery in self.pending:
            if event_id in self.failing:
                on_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), None)
            else:
                self.acknowledged.append(event_id)
                on_delivery(None, None)
        self.pending = []
        return 0


def kafka_row(seq: int, event_id: str, key: str):
    return SimpleNamespace(seq=seq, key=key, topic="some-events", payload={
        "id": event_id, "type": "fulfilment.test.something.v1", "source": "/test", "subject": key,
        "time": NOW.isoformat(), "correlation_id": key, "causation_id": None, "data": {}})


def produce(producer, rows) -> dict[int, str]:
    return KafkaLane(sessions=None, producer=producer, poll_seconds=0.1).publish(rows, session=None)


def test_a_kafka_event_that_fails_holds_back_the_rest_of_its_key_only():
    producer = RecordingProducer(failing={"a1"})
    failed = produce(producer, [kafka_row(1, "a1", "order-a"), kafka_row(2, "b1", "order-b"),
                                kafka_row(3, "a2", "order-a"), kafka_row(4, "b2", "order-b")])
    assert set(failed) == {1, 3} and "timed out" in failed[1].lower()
    assert "a2" not in producer.produced, "order-a's second event must not reach Kafka before its first"
    assert producer.acknowledged == ["b1", "b2"]


def test_a_kafka_event_the_producer_refuses_holds_back_its_key_and_not_the_batch():
    producer = RecordingProducer(refused={"a1"})
    failed = produce(producer, [kafka_row(1, "a1", "order-a"), kafka_row(2, "b1", "order-b"),
                                kafka_row(3, "a2", "order-a")])
    assert set(failed) == {1, 3} and "MSG_SIZE_TOO_LARGE" in failed[1]
    assert producer.produced == ["b1"]


class Claimed:
    """Stands in for the connection of a handed-over claim: answers with the rows the lane could lock."""

    def __init__(self, rows) -> None:
        self.rows = rows

    def execute(self, _statement, _parameters):
        return self.rows


def handed_row(seq: int, key: str, published: bool = False):
    return SimpleNamespace(id=f"id-{seq}", seq=seq, key=key, published_at=NOW if published else None, expired_at=None)


def claim_handed(locked, handed):
    lane = ZeebeLane(sessions=None, zeebe=None, loop=None, poll_seconds=0.1)
    return [row.seq for row in lane.claim_handed(Claimed(locked), handed)]


def test_a_handed_row_another_relay_holds_holds_back_the_later_rows_of_its_key_only():
    a1, b1, a2 = handed_row(1, "order-a"), handed_row(2, "order-b"), handed_row(3, "order-a")
    # Row 1 did not come back: another replica's poll locked it, and publishes it.
    assert claim_handed([b1, a2], [a1, b1, a2]) == [2]
    assert claim_handed([a1, b1, a2], [a1, b1, a2]) == [1, 2, 3]


def test_a_handed_row_published_meanwhile_holds_back_nothing():
    a1, a2 = handed_row(1, "order-a", published=True), handed_row(2, "order-a")
    assert claim_handed([a1, a2], [a1, a2]) == [2]
