"""Prepare shared infrastructure once it answers: create the Kafka topics, deploy the BPMN to Zeebe.

`python -m tools.bootstrap --kafka HOST:PORT --zeebe HOST:PORT` is what the Docker Compose setup runs;
the local launcher calls the same two functions.
"""
from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from contracts.registry import all_topics
from runtime.zeebe import make_client

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
    """The processes and the forms their user tasks link to."""
    return sorted(str(p) for pattern in ("*.bpmn", "*.form") for p in directory.glob(pattern))


def deploy_bpmn(zeebe_address: str, attempts: int = 60) -> list[str]:
    """Deploy every file in bpmn/, retrying while the gateway is still starting."""

    async def deploy() -> list[str]:
        client = make_client(zeebe_address)
        files = bpmn_files()
        for attempt in range(attempts):
            try:
                await client.deploy_resource(*files)
                return files
            except Exception:  # the gateway answers UNAVAILABLE until its partitions have a leader
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(2)
        return []

    return asyncio.run(deploy())


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
    print("deployed:", ", ".join(deploy_bpmn(args.zeebe)), flush=True)


if __name__ == "__main__":
    main()
