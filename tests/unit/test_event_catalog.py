"""The committed event catalog (docs/events, docs/asyncapi.json) is what the event classes say."""
import json

from tools.catalog import ASYNCAPI, CATALOG, ENGINE_RECORD_SCHEMA, SCHEMAS, render


def test_the_committed_schemas_and_asyncapi_document_match_the_event_classes():
    stale = [path.name for path, content in render().items() if not path.exists() or path.read_text() != content]
    assert stale == [], f"regenerate with `python -m tools.catalog`: {stale}"


def test_no_schema_file_is_left_from_an_event_that_no_longer_exists():
    expected = {f"{t}.schema.json" for t in CATALOG} | {ENGINE_RECORD_SCHEMA.name}
    assert {p.name for p in SCHEMAS.glob("*.schema.json")} == expected


def test_every_event_type_is_versioned_and_named_after_its_publisher():
    for event_type, (topic, _) in CATALOG.items():
        namespace, service, _name, version = event_type.split(".")
        assert namespace == "fulfilment" and topic == f"{service}.events" and version.startswith("v")


def test_the_asyncapi_document_is_version_3_and_lists_every_event():
    document = json.loads(ASYNCAPI.read_text())
    assert document["asyncapi"] == "3.0.0"
    assert {m["name"] for m in document["components"]["messages"].values()} == set(CATALOG) | {"zeebe.record"}
