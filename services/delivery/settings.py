"""Delivery service settings (FULFIL_DELIVERY_* environment variables)."""
from pydantic_settings import SettingsConfigDict

from contracts.registry import DELIVERY, ORDER
from runtime.settings import ServiceSettings, local_database_url


class DeliverySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FULFIL_DELIVERY_", extra="ignore")

    service_name: str = DELIVERY.name
    http_port: int = DELIVERY.port
    database_url: str = local_database_url(DELIVERY.database)
    # How long the simulated courier takes from hand-over to delivered.
    courier_delay_seconds: float = 3.0
    courier_poll_seconds: float = 0.5
    # The Order service's API, for the shipping address (it never travels in process variables), asked with the
    # service's own token.
    order_api_url: str = f"http://127.0.0.1:{ORDER.port}"
