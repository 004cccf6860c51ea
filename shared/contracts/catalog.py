"""Every event type, job type and message of the suite, gathered from the per-service contracts."""
from __future__ import annotations

from types import ModuleType

from shared.contracts import delivery, factory, order, warehouse
from shared.contracts.base import Event, JobInput, Message

MODULES: list[ModuleType] = [order, warehouse, factory, delivery]


def _defined_in(module: ModuleType, kind: type, type_name: str) -> list:
    """The classes of `kind` the module declares with their type (a shared base declares fields, not a type)."""
    return [value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, kind) and value.__module__ == module.__name__
            and hasattr(value, type_name)]


# event type -> (topic, class)
EVENTS: dict[str, tuple[str, type[Event]]] = {
    event.event_type: (module.SERVICE.events_topic, event)
    for module in MODULES for event in _defined_in(module, Event, "event_type")
}
# job type -> (owning service, input model)
JOBS: dict[str, tuple[str, type[JobInput]]] = {
    job.job_type: (module.SERVICE.name, job) for module in MODULES for job in _defined_in(module, JobInput, "job_type")
}
# message name -> (sending service, message)
MESSAGES: dict[str, tuple[str, Message]] = {
    value.name: (module.SERVICE.name, value) for module in MODULES for value in vars(module).values()
    if isinstance(value, Message)
}
