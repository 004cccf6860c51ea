"""The event catalog: every event type the services publish, its topic and its JSON Schema.

`python -m tools.catalog` writes docs/events/*.schema.json and docs/asyncapi.json from the event
classes; the test suite checks that the committed files match and that every event on Kafka
validates against them, so a breaking change to an event fails the build.
"""
from __future__ import annotations

import json
from pathlib import Path

from shared.contracts.catalog import EVENTS as CATALOG
from shared.contracts.registry import CONSUMERS, ENGINE_RECORD_VALUE_TYPES, ENGINE_RECORDS_TOPIC, PUBLISHERS

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCHEMAS = DOCS / "events"
ASYNCAPI = DOCS / "asyncapi.json"
ENGINE_RECORD = "EngineRecord"
ENGINE_RECORD_SCHEMA = SCHEMAS / "engine-record.schema.json"


def schema_file(event_type: str) -> Path:
    return SCHEMAS / f"{event_type}.schema.json"


def payload_schema(event_type: str) -> dict:
    _, event = CATALOG[event_type]
    schema = event.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{event_type}.schema.json",
            "description": (event.__doc__ or event.__name__).strip(), **schema}


def engine_record_schema() -> dict:
    """Zeebe's own record JSON, as far as readers of ENGINE_RECORDS_TOPIC may rely on it."""
    integer = {"type": "integer"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": ENGINE_RECORD_SCHEMA.name,
        "description": ("One event of the Zeebe engine, as the broker writes it (Record#toJson), published by the "
                        "broker's Kafka exporter. Delivered at least once: a record is identified by "
                        "(partitionId, position)."),
        "type": "object",
        "required": ["partitionId", "position", "key", "timestamp", "recordType", "valueType", "intent", "value"],
        "properties": {
            "partitionId": {**integer, "minimum": 1, "description": "the engine partition that wrote it"},
            "position": {**integer, "minimum": 0, "description": "its place in that partition's log"},
            "key": {**integer, "description": "the key of what it is about: an element instance, a job, ..."},
            "timestamp": {**integer, "description": "the engine's clock, milliseconds since the epoch"},
            "recordType": {"const": "EVENT"},
            "valueType": {"enum": list(ENGINE_RECORD_VALUE_TYPES)},
            "intent": {"type": "string", "description": "what happened, e.g. ELEMENT_COMPLETED, CREATED"},
            "value": {"type": "object", "description": ("what the event is about; its fields depend on valueType "
                                                        "(Zeebe's protocol documentation lists them)")},
        },
    }


def asyncapi() -> dict:
    channels, operations, messages = {}, {}, {}
    for publisher in PUBLISHERS:
        service, topic = publisher.name, publisher.events_topic
        channel = f"{service}Events"
        types = sorted(t for t, (tp, _) in CATALOG.items() if tp == topic)
        subjects = sorted({CATALOG[t][1].subject_is for t in types})  # each message says which its key is
        channels[channel] = {
            "address": topic,
            "description": f"Domain events of the {service} service; key = {' or '.join(subjects)}.",
            "messages": {CATALOG[t][1].__name__: {"$ref": f"#/components/messages/{CATALOG[t][1].__name__}"}
                         for t in types},
        }
        operations[f"{service}Publishes"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{CATALOG[t][1].__name__}"} for t in types],
        }
        for event_type in types:
            _, event = CATALOG[event_type]
            messages[event.__name__] = {
                "name": event_type,
                "title": event.__name__,
                "summary": (event.__doc__ or event.__name__).strip().splitlines()[0],
                "contentType": "application/json",
                "headers": _cloudevents_headers(event_type, publisher.source, event.subject_is),
                "payload": {"$ref": f"./events/{schema_file(event_type).name}"},
                "bindings": {"kafka": {"key": {"type": "string", "description": event.subject_is}}},
            }
    for consumer in CONSUMERS:
        channels[f"{consumer.name}DeadLetters"] = {
            "address": consumer.dead_letter_topic,
            "description": (f"Records the {consumer.name} service could not accept, unchanged, with headers "
                            "dlt_reason, dlt_topic, dlt_partition, dlt_offset, dlt_consumer."),
        }
    channels["engineRecords"] = {
        "address": ENGINE_RECORDS_TOPIC,
        "description": "What the process engine did, record by record; key = the process instance key.",
        "messages": {ENGINE_RECORD: {"$ref": f"#/components/messages/{ENGINE_RECORD}"}},
    }
    operations["engineExports"] = {"action": "send", "channel": {"$ref": "#/channels/engineRecords"},
                                   "messages": [{"$ref": f"#/channels/engineRecords/messages/{ENGINE_RECORD}"}]}
    messages[ENGINE_RECORD] = {
        "name": "zeebe.record",
        "title": ENGINE_RECORD,
        "summary": "One event of the process engine, in Zeebe's own JSON (not a CloudEvent).",
        "contentType": "application/json",
        "payload": {"$ref": f"./events/{ENGINE_RECORD_SCHEMA.name}"},
        "bindings": {"kafka": {"key": {"type": "string", "description": (
            "the process instance key, or the record's own key when it belongs to no instance")}}},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "fulfilment-suite events",
            "version": "1.0.0",
            "description": ("CloudEvents 1.0 in Kafka binary content mode: attributes as ce_* headers, the JSON "
                            "data as the record value. Generated by `python -m tools.catalog`."),
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "localhost:9092", "protocol": "kafka",
                              "description": "the local stack (`make up`)"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _cloudevents_headers(event_type: str, source: str, subject_is: str) -> dict:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["ce_id", "ce_type", "ce_source", "ce_specversion", "ce_subject", "ce_time", "ce_correlationid"],
        "properties": {
            "ce_id": {**text, "description": "unique per event; consumers de-duplicate on it"},
            "ce_type": {"const": event_type},
            "ce_source": {"const": source},
            "ce_specversion": {"const": "1.0"},
            "ce_subject": {**text, "description": subject_is},
            "ce_time": {**text, "format": "date-time"},
            "ce_correlationid": {**text, "description": f"{subject_is}: shared by every event about it"},
            "ce_causationid": {**text, "description": ("the id of the consumed event this one follows from (e.g. "
                                                       "stock-allocated from items-produced from "
                                                       "replenishment-requested); absent when an HTTP request or a "
                                                       "process job caused it")},
            "content-type": {"const": "application/json"},
        },
    }


def render() -> dict[Path, str]:
    files = {schema_file(t): json.dumps(payload_schema(t), indent=2) + "\n" for t in sorted(CATALOG)}
    files[ENGINE_RECORD_SCHEMA] = json.dumps(engine_record_schema(), indent=2) + "\n"
    files[ASYNCAPI] = json.dumps(asyncapi(), indent=2) + "\n"
    return files


def main() -> None:
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for path, content in render().items():
        path.write_text(content)
        print(f"wrote {path.relative_to(DOCS.parent)}")


if __name__ == "__main__":
    main()
