"""The settings base every service extends: one typed object read from FULFIL_<SERVICE>_* variables."""
from __future__ import annotations

from typing import Any, ClassVar, Literal, Protocol

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.runtime.auth import OAuthToken, client_credentials, service_client_id


class RegisteredService(Protocol):
    """A service's entry in the registry (contracts.registry.Service): what its settings and wiring take from it."""

    name: str
    port: int
    title: str

    @property
    def database(self) -> str: ...

    @property
    def consumed_topics(self) -> list[str]: ...

    @property
    def dead_letter_topic(self) -> str: ...


class ServiceSettings(BaseSettings):
    """Infrastructure addresses and plumbing tunables; each service adds its own fields.

    A service's class names its registry entry, `class OrderSettings(ServiceSettings, service=ORDER)`, which gives
    the prefix of its variables (FULFIL_ORDER_*) and the defaults of its name, port and database.
    """

    model_config = SettingsConfigDict(extra="ignore")
    service: ClassVar[RegisteredService]

    service_name: str
    http_host: str = "127.0.0.1"
    http_port: int
    database_url: str
    # How long a migration at start waits for a lock on a table before it gives up (migrations.py): while it
    # waits, every query on that table queues behind it.
    migration_lock_timeout_seconds: float = Field(default=5.0, gt=0)
    # How the log's lines read (shared/runtime/logging.py): `text`, or `json` (one object a line). One variable,
    # FULFIL_LOG_FORMAT, for every service: the launcher passes its own environment on to each.
    log_format: Literal["text", "json"] = Field(default="text", validation_alias="FULFIL_LOG_FORMAT")
    kafka_bootstrap: str = "localhost:9092"
    zeebe_address: str = "localhost:26500"

    # The OpenID Connect provider whose access tokens the API accepts (shared/runtime/auth.py): the issuer every token
    # names, and the audience it must include. Its signing keys are fetched from `auth_jwks_url`, by default the
    # issuer's own; a container that reaches the provider by another name than browsers do sets it.
    auth_issuer: str = "http://127.0.0.1:8180/realms/fulfilment"
    auth_audience: str = "fulfilment-api"
    auth_jwks_url: str = ""
    # A token naming a key id the keys lack has them fetched again, but not sooner than this after the last fetch:
    # meanwhile it is refused at once, so made-up key ids cannot have the provider asked on every request.
    auth_jwks_refresh_seconds: float = Field(default=30.0, gt=0)
    # The public client Swagger UI logs in through (authorisation code with PKCE).
    auth_public_client: str = "fulfil-cli"
    # A service that calls another one asks with its own token (client credentials of its confidential client,
    # `<service>-service` unless set; the realm gives that account the role `service`), got from `auth_token_url`,
    # by default the issuer's token endpoint (a container may reach the provider by another name).
    auth_client_id: str = ""
    auth_client_secret: SecretStr = SecretStr("")
    auth_token_url: str = ""

    # What one caller may ask (shared/runtime/limits.py): request bodies up to this size (413 beyond), and requests per
    # token subject at this rate on average with bursts up to `rate_limit_burst` (429 beyond), per replica.
    max_request_bytes: int = 64 * 1024
    rate_limit_per_second: float = 50
    rate_limit_burst: int = 100
    # Before any token is checked, requests per client address, whatever token they carry (429 beyond), per
    # replica. Well above one subject's allowance: several callers may share an address (on the local stack, all).
    address_rate_limit_per_second: float = 500
    address_rate_limit_burst: int = 1000

    # Jobs of one type this replica runs at once, on threads of that type's own (zeebe.py); the others wait
    # for one, and a job whose deadline passes meanwhile is not run (the broker hands it out again). The busiest
    # service (6 job types) at this limit leaves most of its database pool (db.py) to HTTP, loops and /ready.
    job_concurrency: int = Field(default=4, gt=0)

    # Only a fallback: a commit in this process wakes its relay at once (shared.runtime.db.Wakeups).
    outbox_poll_seconds: float = 1.0
    # How long a published outbox row is kept (to trace an event back) before it is deleted.
    outbox_retention_hours: float = Field(default=72.0, gt=0)
    # How long the inbox remembers an event id. Keep it longer than Kafka keeps a record on the consumed and
    # dead-letter topics (7 days unless configured): an event that comes again later would be applied again.
    inbox_retention_hours: float = Field(default=14 * 24.0, gt=0)
    # How long the service keeps what it holds of finished work (an ended process instance, a final order's steps,
    # a fact past every chart) before its retention removes it; never anything an open order needs.
    history_retention_days: float = Field(default=90.0, gt=0)
    consumer_group: str = ""

    # Traces (shared/runtime/tracing.py): exported to Zipkin's JSON v2 span API at this address, or nowhere when
    # empty (FULFIL_<SERVICE>_TRACING_ENDPOINT; the launcher passes its Zipkin's). The share of new traces kept
    # (a continued one follows its parent), and whether every SQL statement gets a span (it costs CPU).
    tracing_endpoint: str = "http://127.0.0.1:9411/api/v2/spans"
    tracing_sample_ratio: float = Field(default=1.0, ge=0, le=1)
    tracing_sql: bool = False

    def __init_subclass__(cls, service: RegisteredService | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # `service` is taken once pydantic has built the class, below

    @classmethod
    def __pydantic_init_subclass__(cls, service: RegisteredService | None = None, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if service is not None:
            cls.service = service
            cls.model_config["env_prefix"] = f"FULFIL_{service.name.upper()}_"

    @model_validator(mode="before")
    @classmethod
    def _registry_defaults(cls, values: Any) -> Any:
        if not isinstance(values, dict) or not hasattr(cls, "service"):
            return values
        return {"service_name": cls.service.name, "http_port": cls.service.port,
                "database_url": local_database_url(cls.service.database), **values}

    @model_validator(mode="after")
    def _history_outlasts_the_inbox(self) -> ServiceSettings:
        # An event that came again after the rows it concerns were removed would start them afresh (an order
        # open forever in the figures, a second production run): only the inbox recognises it until then.
        if self.history_retention_days * 24 < self.inbox_retention_hours:
            raise ValueError(f"history_retention_days ({self.history_retention_days}) must cover "
                             f"inbox_retention_hours ({self.inbox_retention_hours} h)")
        return self

    def oidc_endpoint(self, name: str) -> str:
        """One of the provider's OpenID Connect endpoints as browsers reach it: `auth`, `token`, `certs`."""
        return f"{self.auth_issuer}/protocol/openid-connect/{name}"

    @property
    def jwks_url(self) -> str:
        return self.auth_jwks_url or self.oidc_endpoint("certs")

    def own_token(self) -> OAuthToken:
        """This service's own token, for its calls to another service's API."""
        return client_credentials(self.auth_token_url or self.oidc_endpoint("token"),
                                  self.auth_client_id or service_client_id(self.service_name),
                                  self.auth_client_secret.get_secret_value())

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"{self.service_name}-service"


def local_database_url(database: str, port: int = 5432, password: str | None = None, role: str | None = None) -> str:
    """A database on the local stack's PostgreSQL, reached as the role of the same name (or `role`); the launcher
    gives each service its role's password, which the stack generated at its first start."""
    login = f"{role or database}:{password}" if password else role or database
    return f"postgresql+psycopg://{login}@127.0.0.1:{port}/{database}"
