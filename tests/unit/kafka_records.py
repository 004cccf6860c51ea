"""A CloudEvent as the Kafka client hands it to a consumer: the tests of consumers need no broker."""
from __future__ import annotations

from shared.runtime.envelope import Envelope


class KafkaRecord:
    """The little of a confluent_kafka Message a consumer reads."""

    def __init__(self, envelope: Envelope, topic: str = "order.events") -> None:
        self.message = envelope.to_kafka()
        self._topic = topic

    def headers(self):
        return list(self.message.headers.items())

    def key(self):
        return self.message.key.encode()

    def value(self):
        return self.message.value

    def topic(self):
        return self._topic
