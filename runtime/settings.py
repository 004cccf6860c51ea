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

    # Only a fallback: a commit in this process wakes its relay at once (runtime.db.Wakeups).
    outbox_poll_seconds: float = 1.0
    consumer_group: str = ""

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"{self.service_name}-service"


def local_database_url(database: str, port: int = 5432) -> str:
    """A database on the local stack's PostgreSQL, reached as the role of the same name."""
    return f"postgresql+psycopg://{database}@127.0.0.1:{port}/{database}"
