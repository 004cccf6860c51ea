"""Order service settings (FULFIL_ORDER_* environment variables)."""
from pydantic import PositiveInt

from services.order.domain import OrderLimits
from shared.contracts.process import Deadlines
from shared.contracts.registry import MONITOR, ORDER
from shared.runtime.settings import ServiceSettings


class OrderSettings(ServiceSettings, service=ORDER):
    # Deadlines handed to each order's process (ISO 8601 durations), so they are set per deployment,
    # not in the model: seconds in development, days in production.
    stock_wait_reminder: str = "P1D"
    stock_wait_deadline: str = "P3D"
    delivery_reminder: str = "P2D"
    delivery_deadline: str = "P5D"
    # How long a person has to answer: the due date of a review (escalated when it passes) and of a decision on late
    # stock or an overdue delivery.
    order_review_deadline: str = "P1D"
    decision_deadline: str = "P1D"

    # How much one order may ask for (checked when it is placed): units of one SKU, and units in all. What one order
    # can take of the free stock, and ask the factory to make, stays within these.
    max_units_per_line: PositiveInt = 100
    max_units_per_order: PositiveInt = 1000

    # An order that is not final, waits for neither stock nor a courier, and has not moved for this
    # long has stalled: the reconciler repairs or reports it (services/order/reconciler.py).
    stuck_after_seconds: float = 300
    reconcile_every_seconds: float = 15
    # How often the batch operations loop looks for pending items when it found none (it goes on at once otherwise).
    operations_every_seconds: float = 2

    # The process monitor: the reconciler asks its API about a stalled order's process instances, and each order
    # links to its page where people reach it (the same address unless set: a container reaches it by another).
    monitor_url: str = f"http://127.0.0.1:{MONITOR.port}"
    monitor_public_url: str = ""

    def monitor_page(self, order_id: str) -> str:
        return f"{self.monitor_public_url or self.monitor_url}/#/orders/{order_id}"

    def order_limits(self) -> OrderLimits:
        return OrderLimits(max_units_per_line=self.max_units_per_line, max_units_per_order=self.max_units_per_order)

    def deadlines(self) -> Deadlines:
        """The process deadlines of this deployment, as an order's process reads them."""
        return Deadlines(stock_wait_reminder=self.stock_wait_reminder, stock_wait_deadline=self.stock_wait_deadline,
                         delivery_reminder=self.delivery_reminder, delivery_deadline=self.delivery_deadline,
                         order_review_deadline=self.order_review_deadline, decision_deadline=self.decision_deadline)
