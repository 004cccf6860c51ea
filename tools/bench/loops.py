"""The load a phase puts on one side: N clients in a closed loop, or arrivals at a fixed rate (open loop).

A side starts one instance (the reference) or order (the suite) at a time and tells when it ended through
`Completions`, which a feed in another thread resolves. Latency runs from when the start was due (the
open loop's schedule, not when the event loop got round to it) to when the side says it ended.
"""
from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from confluent_kafka import Consumer, Message, TopicPartition


@dataclass(frozen=True)
class Finish:
    at: float  # epoch seconds at which it ended, by the side's own account (engine record, event time)
    ok: bool  # completed; False: it ended another way (cancelled, delivery failed, terminated)
    seen: float  # epoch seconds at which the bench learnt of it


class Completions:
    """Futures for the keys a phase waits for; `report` may be called from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: dict[str, asyncio.Future[Finish]] = {}
        # Ends reported before anyone waited (or of keys nobody will wait for: other users of the stack).
        self.early: dict[str, Finish] = {}

    def expect(self, key: str) -> asyncio.Future[Finish]:
        future = self.loop.create_future()
        if key in self.early:
            future.set_result(self.early.pop(key))
        else:
            self.waiting[key] = future
        return future

    def forget(self, key: str) -> None:
        """Nobody waits for `key` any more (its phase gave up on it)."""
        self.waiting.pop(key, None)

    def report(self, key: str, finish: Finish) -> None:
        self.loop.call_soon_threadsafe(self._resolve, key, finish)

    def _resolve(self, key: str, finish: Finish) -> None:
        future = self.waiting.pop(key, None)
        if future is None:
            self.early[key] = finish
        elif not future.done():
            future.set_result(finish)


class Feed(threading.Thread):
    """Reads the Kafka topics a side's ends are told on (the engine's records, the services' events) in a
    thread of its own until stopped, and reports them to `completions`."""

    def __init__(self, name: str, completions: Completions, bootstrap: str, topics: list[str]) -> None:
        super().__init__(name=name, daemon=True)
        self.completions = completions
        self.stopping = threading.Event()
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{name}-{uuid.uuid4()}",
                                  "enable.auto.commit": False})
        found = self.consumer.list_topics(timeout=10).topics
        # From the exact current end (no start of this phase exists yet), not "latest" resolved some time later.
        self.consumer.assign([TopicPartition(topic, p, self.consumer.get_watermark_offsets(
            TopicPartition(topic, p), timeout=10)[1]) for topic in topics for p in found[topic].partitions])

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                for record in self.consumer.consume(num_messages=500, timeout=0.1):
                    if not record.error():
                        self.take(record)
        finally:
            self.consumer.close()

    def take(self, record: Message) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


class StartRefused(Exception):
    """The side refused a start for a reason other than back-pressure (which it retries)."""


class Side(Protocol):
    name: str

    async def start(self, number: int) -> str:
        """Start instance or order `number`; its key once accepted (retries back-pressure itself)."""

    def counters(self) -> dict[str, int]:
        """Push-back the side has seen so far in this run, by kind."""


@dataclass
class Sample:
    due: float  # epoch seconds at which this start was due
    key: str | None = None  # the instance's orderId, the order's id
    accepted: float | None = None  # when the side had taken the start (message published, 201 answered)
    finish: Finish | None = None
    error: str | None = None  # the start was refused for good


@dataclass
class Load:
    """What one phase did: every start it made and how each ended; `end` is when starting stopped."""

    samples: list[Sample] = field(default_factory=list)
    begin: float = 0.0
    end: float = 0.0


class Progress:
    """A line every `every` seconds while a phase runs, so a five-minute phase shows it is alive."""

    def __init__(self, label: str, load: Load, duration: float, every: float, say: Callable[[str], None]) -> None:
        self.label, self.load, self.duration, self.every, self.say = label, load, duration, every, say

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            done = sum(s.finish is not None for s in self.load.samples)
            waiting = sum(s.finish is None and s.error is None for s in self.load.samples)
            elapsed = time.time() - self.load.begin
            when = (f"{elapsed:.0f}/{self.duration:.0f} s" if elapsed <= self.duration
                    else f"draining {elapsed - self.duration:.0f} s")
            self.say(f"   {self.label}: {when}, {done} ended, {waiting} in flight")


async def _one(side: Side, completions: Completions, number: int, sample: Sample, give_up_at: float) -> None:
    """Start one and wait for its end, until `give_up_at` (then it stays unfinished: finish None)."""
    try:
        key = await asyncio.wait_for(side.start(number), max(0.0, give_up_at - time.time()))
    except TimeoutError:
        return
    except StartRefused as refused:
        sample.error = str(refused)
        return
    sample.key, sample.accepted = key, time.time()
    ended = completions.expect(key)
    try:
        sample.finish = await asyncio.wait_for(ended, max(0.0, give_up_at - time.time()))
    except TimeoutError:
        completions.forget(key)


async def closed_loop(side: Side, completions: Completions, clients: int, duration: float, drain: float,
                      numbers: itertools.count, progress: Callable[[Load], Progress]) -> Load:
    """`clients` clients, each starting one, waiting for its end, starting the next, for `duration` seconds."""
    load = Load(begin=time.time())
    load.end = load.begin + duration

    async def client() -> None:
        while time.time() < load.end:
            sample = Sample(due=time.time())
            load.samples.append(sample)
            await _one(side, completions, next(numbers), sample, load.end + drain)
            if sample.error is not None:
                await asyncio.sleep(0.5)  # a refused start: no tight loop of refusals
            elif sample.finish is None:
                return  # gave up waiting: the drain is over

    reporter = asyncio.create_task(progress(load).run())
    try:
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        reporter.cancel()
    return load


async def open_loop(side: Side, completions: Completions, rate: float, duration: float, drain: float,
                    numbers: itertools.count, progress: Callable[[Load], Progress]) -> Load:
    """A start every 1/`rate` seconds for `duration` seconds, whether or not earlier ones have ended."""
    load = Load(begin=time.time())
    load.end = load.begin + duration
    reporter = asyncio.create_task(progress(load).run())
    running = []
    try:
        for n in range(int(rate * duration)):
            due = load.begin + n / rate
            await asyncio.sleep(max(0.0, due - time.time()))
            sample = Sample(due=due)
            load.samples.append(sample)
            running.append(asyncio.create_task(_one(side, completions, next(numbers), sample, load.end + drain)))
        await asyncio.gather(*running)
    finally:
        reporter.cancel()
        for task in running:
            task.cancel()
    return load
