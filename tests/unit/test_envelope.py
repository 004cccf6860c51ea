from typing import ClassVar

import pytest

from shared.contracts.base import OrderEvent as DomainEvent
from shared.runtime.envelope import Envelope, InvalidEnvelope


class SomethingHappened(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.test.something-happened.v1"
    amount: int


def test_binary_mode_puts_attributes_in_headers_and_data_in_the_value():
    envelope = Envelope.wrap(SomethingHappened(order_id="o-1", amount=3), source="/fulfilment/test",
                             causation_id="cause-1")
    message = envelope.to_kafka()
    assert message.key == "o-1"
    assert message.headers["ce_specversion"] == b"1.0"
    assert message.headers["ce_type"] == b"fulfilment.test.something-happened.v1"
    assert message.headers["ce_subject"] == b"o-1"
    assert message.headers["ce_correlationid"] == b"o-1"
    assert message.headers["ce_causationid"] == b"cause-1"
    assert message.headers["content-type"] == b"application/json"
    assert b'"amount": 3' in message.value or b'"amount":3' in message.value


def test_an_envelope_survives_the_round_trip():
    envelope = Envelope.wrap(SomethingHappened(order_id="o-2", amount=5), source="/fulfilment/test")
    message = envelope.to_kafka()
    parsed = Envelope.from_kafka(list(message.headers.items()), message.key.encode(), message.value)
    assert (parsed.id, parsed.type, parsed.subject, parsed.data) == (envelope.id, envelope.type, "o-2",
                                                                     {"order_id": "o-2", "amount": 5})
    assert parsed.correlation_id == "o-2"


@pytest.mark.parametrize("headers, value", [
    ([], b'{"order_id": "x"}'),
    ([("ce_specversion", b"1.0"), ("ce_type", b"t"), ("ce_source", b"/s"), ("ce_id", b"1"),
      ("content-type", b"application/json")], b"not json"),
    ([("ce_specversion", b"1.0"), ("ce_type", b"t"), ("ce_source", b"/s"), ("ce_id", b"1"),
      ("content-type", b"application/json")], b'{"order_id": "x"}'),
])
def test_records_that_are_not_cloudevents_with_a_subject_are_rejected(headers, value):
    with pytest.raises(InvalidEnvelope):
        Envelope.from_kafka(headers, b"k", value)
