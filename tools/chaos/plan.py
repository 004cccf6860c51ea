"""What a soak does, decided before it starts from its options and a seed: the orders and the kills."""
from __future__ import annotations

import random
from dataclasses import dataclass

from shared.contracts.registry import SERVICES
from tools.options import option

INFRASTRUCTURE = ("postgres", "kafka", "camunda", "keycloak")
# Everything a soak kills: the infrastructure and each service (one of its replicas each time).
COMPONENTS = (*INFRASTRUCTURE, *SERVICES)


@dataclass(frozen=True)
class Plan:
    orders: int = option(200, "orders placed")
    rate: float = option(2.0, "orders placed per second")
    kills: int | None = None  # None: one per 50 orders, at least one per component
    cancel_share: float = option(0.15, "share of the customers who cancel")
    shortest_down: float = 3.0
    longest_down: float = 30.0
    camunda_long_down: float = option(60.0, "seconds the first Camunda kill stays down (0: like the others)",
                                      flag="--camunda-down")
    recovery_limit: float = option(90.0, "seconds after a restart for a new order to go all the way; the next kill "
                                         "waits for it", flag="--recovery")
    settle_timeout: float = option(300.0, "seconds after the last restart for every order to be final",
                                   flag="--settle")
    give_up_after: float = option(300.0, "seconds a client keeps retrying one request, as a real one would",
                                  flag="--give-up")
    seed: int = 0

    @property
    def kill_count(self) -> int:
        return self.kills if self.kills is not None else max(len(COMPONENTS), self.orders // 50)

    @property
    def placing_seconds(self) -> float:
        return self.orders / self.rate


@dataclass(frozen=True)
class Kill:
    component: str  # postgres, kafka, camunda or a service
    process: str  # what is killed: the component, or a service replica's process name (`order`, `order-2`)
    down_seconds: float


def kill_schedule(plan: Plan, replicas: int, rng: random.Random) -> list[Kill]:
    """Every component in turn, in a shuffled order each round, so any number of kills spreads over all of them;
    a service's replicas take turns from round to round."""
    kills: list[Kill] = []
    camunda_held = False
    rounds = 0
    while len(kills) < plan.kill_count:
        order = list(COMPONENTS)
        rng.shuffle(order)
        for component in order:
            process = component
            if component in SERVICES:
                number = rounds % replicas + 1
                process = component if number == 1 else f"{component}-{number}"
            down = rng.uniform(plan.shortest_down, plan.longest_down)
            if component == "camunda" and plan.camunda_long_down and not camunda_held:
                down, camunda_held = plan.camunda_long_down, True
            kills.append(Kill(component, process, round(down, 1)))
        rounds += 1
    return kills[:plan.kill_count]


@dataclass(frozen=True)
class OrderShape:
    """One order of the soak: which of its SKUs, whether it ships in parts, whether the courier refuses it,
    and whether (and how many seconds after it was accepted) the customer cancels it."""

    items: list[tuple[str, int]]
    accepts_partial: bool
    refused_by_courier: bool
    cancel_after: float | None


def order_shapes(plan: Plan, skus: SoakSkus, rng: random.Random) -> list[OrderShape]:
    """A mix that takes every path: full stock, partial shipment with a backorder, waiting for all the stock,
    a parcel the courier refuses, and cancellations at any point."""
    shapes = []
    for _ in range(plan.orders):
        draw = rng.random()
        if draw < 0.55:
            items, partial = [(skus.plenty, rng.randint(1, 2))], True
        elif draw < 0.80:
            items, partial = [(skus.plenty, 1), (skus.scarce, 1)], True
        elif draw < 0.90:
            items, partial = [(skus.scarce, rng.randint(1, 2))], False
        else:
            items, partial = [(skus.made_to_order, 1)], True
        cancel = round(rng.uniform(0, 10), 1) if rng.random() < plan.cancel_share else None
        shapes.append(OrderShape(items, partial, refused_by_courier=rng.random() < 0.05, cancel_after=cancel))
    return shapes


@dataclass(frozen=True)
class SoakSkus:
    """The soak's own SKUs, so its stock figures are its own: plenty for every order, a scarce one whose
    shortages the factory makes up, and one with no stock that is always made to order."""

    plenty: str
    scarce: str
    made_to_order: str

    @classmethod
    def for_run(cls, run: str) -> SoakSkus:
        return cls(*(f"CHAOS-{run}-{kind}" for kind in ("PLENTY", "SCARCE", "MADE")))

    def initial_stock(self, orders: int) -> dict[str, int]:
        # Plenty: up to two units an order, and one for each probe order placed after a restart.
        return {self.plenty: 3 * orders + 100, self.scarce: max(1, orders // 10), self.made_to_order: 0}
