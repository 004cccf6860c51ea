"""Prepare shared infrastructure once it answers: create the Kafka topics, deploy the BPMN to Zeebe.

`python -m shared.bootstrap --kafka HOST:PORT --zeebe HOST:PORT` is what the Docker Compose setup runs;
the local launcher calls the same two functions.
"""
from __future__ import annotations

import argparse
import asyncio
import time

from shared.topics import ensure_topics
from shared.zeebe import deploy_processes, make_client


def deploy_bpmn(zeebe_address: str, attempts: int = 60) -> list[str]:
    """Deploy every file in bpmn/, retrying while the gateway is still starting."""

    async def deploy() -> list[str]:
        client = make_client(zeebe_address)
        for attempt in range(attempts):
            try:
                return await deploy_processes(client)
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
