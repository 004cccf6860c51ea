"""The settings base every service extends: one typed object read from FULFIL_<SERVICE>_* variables."""
from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Infrastructure addresses and plumbing tunables; each service adds its own fields and prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str
    http_host: str = "127.0.0.1"
    http_port: int
    database_url: str
    kafka_bootstrap: str = "localhost:9092"
    zeebe_address: str = "localhost:26500"

    outbox_poll_seconds: float = 0.2
    consumer_group: str = ""

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"{self.service_name}-service"


def database_name(service: str) -> str:
    """One database and one role per service; `order` alone is an SQL keyword, hence the suffix."""
    return f"{service}_service"


def local_database_url(service: str, port: int = 5432) -> str:
    name = database_name(service)
    return f"postgresql+psycopg://{name}@127.0.0.1:{port}/{name}"
