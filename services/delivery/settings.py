"""Delivery service settings (FULFIL_DELIVERY_* environment variables)."""
from shared.contracts.registry import DELIVERY, ORDER
from shared.runtime.settings import ServiceSettings


class DeliverySettings(ServiceSettings, service=DELIVERY):
    # How long the simulated courier takes from hand-over to delivered.
    courier_delay_seconds: float = 3.0
    courier_poll_seconds: float = 0.5
    # The Order service's API, for the shipping address (it never travels in process variables), asked with the
    # service's own token.
    order_api_url: str = f"http://127.0.0.1:{ORDER.port}"
