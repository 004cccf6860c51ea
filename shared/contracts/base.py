"""The shapes every contract takes: an event about an order, process variables, a job type, a message."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveInt
from pydantic.alias_generators import to_camel


class Event(BaseModel):
    """Payload of one event type; `event_type` is its versioned CloudEvents type, given where the class is
    declared: `class OrderPlaced(OrderEvent, event_type="fulfilment.order.placed.v1")`.

    Every event is about one subject (an order, a SKU): its id is the CloudEvents subject, the correlation id
    and the Kafka key, so all events about one subject stay in one partition, in order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]
    # What the subject is, in words: the event catalog says so for each event type.
    subject_is: ClassVar[str]

    def __init_subclass__(cls, event_type: str | None = None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if event_type is not None:
            if cls.subject is Event.subject or not hasattr(cls, "subject_is"):
                raise TypeError(f"{cls.__name__} does not say what it is about: derive it from OrderEvent, or give it "
                                "a `subject` and a `subject_is`")
            cls.event_type = event_type

    @property
    def subject(self) -> str:
        raise NotImplementedError


class OrderEvent(Event):
    """An event about one order, which nearly every event is."""

    subject_is: ClassVar[str] = "the order id"

    order_id: str

    @property
    def subject(self) -> str:
        return self.order_id


class Line(BaseModel):
    """A quantity of one SKU: an order line, a packed line, a shipment item."""

    sku: str
    quantity: PositiveInt


class ReservedLine(BaseModel):
    sku: str
    requested: PositiveInt
    reserved: NonNegativeInt


class Variables(BaseModel):
    """Process variables: snake_case in Python, camelCase in the BPMN (orderId, shipmentNo, ...)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    @classmethod
    def names(cls) -> list[str]:
        """The variable names as the BPMN spells them."""
        return [field.alias or name for name, field in cls.model_fields.items()]

    def to_variables(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class JobInput(Variables):
    """The variables one job type reads; `job_type` is the string in the BPMN's task definition and
    `output` the model of the variables its handler sets (None: it sets none), both given where the
    class is declared: `class PickPack(OrderJob, job_type="warehouse.pick-pack", output=PickPackResult)`.
    """

    job_type: ClassVar[str]
    output: ClassVar[type[Variables] | None] = None

    def __init_subclass__(cls, job_type: str | None = None, output: type[Variables] | None = None,
                          **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if job_type is not None:
            cls.job_type, cls.output = job_type, output


class OrderJob(JobInput):
    """The variables of a job about one order: the order's id, and what its job type adds."""

    order_id: str


class MessageId(StrEnum):
    """How a message's id is made: the broker refuses a second message with the same id while it keeps the first
    (its time to live), which is what makes a resend after a crash harmless."""

    # The correlation key itself, e.g. the order id of a process start: one per key, ever.
    KEY = "key"
    # "<name>:<key>": once per key, e.g. one cancellation request per order.
    NAME_AND_KEY = "name:key"
    # What the sender names each time, e.g. the delivery that completed a shipment.
    OCCURRENCE = "occurrence"


class OutgoingMessage(NamedTuple):
    """One Zeebe message to publish, as its declaration builds it (`Message.to`)."""

    name: str
    correlation_key: str
    message_id: str
    variables: dict[str, Any]
    ttl_ms: int


@dataclass(frozen=True)
class Message:
    """A Zeebe message: its name in the BPMN, the variable it is correlated on, how long the broker keeps it,
    its variables (None: it carries none) and how its id is made."""

    name: str
    correlation: str
    ttl: timedelta
    variables: type[Variables] | None = None
    message_id: MessageId = MessageId.NAME_AND_KEY

    @property
    def ttl_ms(self) -> int:
        return int(self.ttl.total_seconds() * 1000)

    def to(self, key: str, variables: Variables | None = None, *, occurrence: str | None = None) -> OutgoingMessage:
        """The message for correlation key `key`; `occurrence` names this one when the id rule asks for it."""
        if (variables is None) != (self.variables is None) or (
                variables is not None and not isinstance(variables, self.variables)):
            raise TypeError(f"{self.name} carries {self.variables.__name__ if self.variables else 'no variables'}, "
                            f"not {type(variables).__name__}")
        if (occurrence is None) == (self.message_id is MessageId.OCCURRENCE):
            raise TypeError(f"{self.name}: an occurrence is given exactly when its id rule is {MessageId.OCCURRENCE}")
        message_id = {MessageId.KEY: key, MessageId.NAME_AND_KEY: f"{self.name}:{key}",
                      MessageId.OCCURRENCE: occurrence}[self.message_id]
        return OutgoingMessage(self.name, key, message_id, variables.to_variables() if variables else {}, self.ttl_ms)

    def again(self, key: str, variables: dict[str, Any], *, instead_of: str) -> OutgoingMessage:
        """A resend of a message that expired unpublished (its outbox row `instead_of`), with that one's variables:
        an id of its own, since the engine may still remember the first one's, and one per expired row, so
        replicas racing to resend it write one message the engine takes once."""
        return OutgoingMessage(self.name, key, f"{self.name}:{key}:again:{instead_of}", variables, self.ttl_ms)
