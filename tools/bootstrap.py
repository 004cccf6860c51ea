"""Prepare shared infrastructure once it answers: create the Kafka topics, deploy the BPMN to Zeebe.

`python -m tools.bootstrap --kafka HOST:PORT --zeebe HOST:PORT` is what the Docker Compose setup runs;
the local launcher calls the same two functions.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from shared.contracts.registry import all_topics
from shared.runtime.zeebe import make_client

BPMN_DIR = Path(__file__).resolve().parents[1] / "bpmn"
PARTITIONS = 3


def ensure_topics(bootstrap: str, names: list[str] | None = None) -> list[str]:
    """Create missing topics; returns the ones it created (auto-creation is off, so a typo never invents one)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [name for name in (names or all_topics()) if name not in existing]
    if missing:
        futures = admin.create_topics(
            [NewTopic(name, num_partitions=PARTITIONS, replication_factor=1) for name in missing]
        )
        for future in futures.values():
            future.result(timeout=30)
    return missing


def bpmn_files(directory: Path = BPMN_DIR) -> list[str]:
    """The processes, the decisions they call and the forms their user tasks link to."""
    return sorted(str(p) for pattern in ("*.bpmn", "*.dmn", "*.form") for p in directory.glob(pattern))


def deploy_bpmn(zeebe_address: str, attempts: int = 60, files: list[str] | None = None) -> dict[str, int]:
    """Deploy every file in bpmn/ (or `files`) as one deployment, retrying while the gateway is still starting.

    One deployment, because the links between them are bound to their deployment (bindingType="deployment"): a
    process calls the shipment process, the decision and the forms deployed with it. When any file changed, Zeebe
    versions every resource of the deployment anew. Returns each process's, decision's and form's version.
    """

    async def deploy() -> dict[str, int]:
        client = make_client(zeebe_address)
        for attempt in range(attempts):
            try:
                response = await client.deploy_resource(*(files or bpmn_files()))
                return {_resource_id(r): r.version for r in response.deployments}
            except Exception:  # the gateway answers UNAVAILABLE until its partitions have a leader
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(2)
        return {}

    return asyncio.run(deploy())


def deploy_edited(zeebe_address: str, edit: Callable[[str, str], str]) -> dict[str, int]:
    """Deploy every file of bpmn/ as `edit(file name, text)` returns it, as one deployment (a variant for tests and
    benchmarks; the repo's files are untouched). Returns each resource's version."""
    with tempfile.TemporaryDirectory() as directory:
        files = []
        for path in map(Path, bpmn_files()):
            copy = Path(directory) / path.name
            copy.write_text(edit(path.name, path.read_text()))
            files.append(str(copy))
        return deploy_bpmn(zeebe_address, files=files)


def _resource_id(metadata) -> str:
    for attribute in ("bpmn_process_id", "decision_id", "form_id", "dmn_decision_requirements_id"):
        if value := getattr(metadata, attribute, None):
            return value
    return metadata.resource_name


def create_topics(bootstrap: str, attempts: int = 60) -> list[str]:
    for attempt in range(attempts):
        try:
            return ensure_topics(bootstrap)
        except Exception:  # Kafka refuses admin requests until the controller is elected
            if attempt == attempts - 1:
                raise
            time.sleep(2)
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kafka", default="localhost:9092")
    parser.add_argument("--zeebe", default="localhost:26500")
    args = parser.parse_args()
    print("created topics:", ", ".join(create_topics(args.kafka)) or "none (all exist)", flush=True)
    versions = deploy_bpmn(args.zeebe)
    print("deployed:", ", ".join(f"{name} v{version}" for name, version in sorted(versions.items())), flush=True)


if __name__ == "__main__":
    main()
