"""The composition root every service uses: migrate, then HTTP + outbox relay + consumer + Zeebe worker."""
from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import REGISTRY
from sqlalchemy.engine import Connection, Engine

from shared.runtime import logging as service_logging
from shared.runtime import tracing
from shared.runtime.auth import TokenVerifier, route_access
from shared.runtime.backoff import FailureBackoff, describe
from shared.runtime.db import Wakeups, make_engine, unit_of_work
from shared.runtime.http import problem
from shared.runtime.inbox import EventConsumer, ProjectingConsumer, RecordHandler, Subscription, forget_seen
from shared.runtime.limits import BodySizeLimit, RateLimit, TokenBuckets
from shared.runtime.metrics import METRICS_PATH, ReadAtScrape, ReadMetrics, RequestTimer, exposition
from shared.runtime.migrations import upgrade_to_head
from shared.runtime.outbox import UnitsOfWork, backlog_metrics, delete_published, outbox_backlog
from shared.runtime.problems import PROBLEMS_OF_EVERY_ROUTE, install_problems
from shared.runtime.relay import OutboxRelay, kafka_producer
from shared.runtime.settings import ServiceSettings
from shared.runtime.zeebe import JobHandlers, SupervisedWorker, make_client

log = logging.getLogger(__name__)
# How often the retention looks for rows past their time (at once again while it finds some).
RETENTION_POLL_SECONDS = 300

BackgroundLoop = Callable[[threading.Event], None]
# Removes up to a batch of the service's finished rows older than the given age; returns how many went.
Forget = Callable[[Connection, timedelta], int]
WEB_PATH = "/web"


@dataclass
class Service:
    """Everything that differs between services; the wiring below is the same for all of them.

    Its name, title, topics and database come from the registry entry its settings class names; its migrations are
    the `migrations` folder beside that class's module (every service is laid out the same way).
    """

    settings: ServiceSettings
    api: APIRouter
    # Job handlers get `sessions`, `units` (shared.runtime.outbox.UnitsOfWork), `settings` and these by name.
    jobs: JobHandlers | None = None
    job_dependencies: dict[str, Any] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    # Or, for consumed records that are not CloudEvents (the engine's), the function that applies each one.
    projection: RecordHandler | None = None
    # Extra loops, given the engine and the wakeups, e.g. the delivery service's simulated courier.
    background: list[Callable[[Engine, Wakeups], BackgroundLoop]] = field(default_factory=list)
    # What the retention loop removes beside the outbox and inbox rows: the service's finished history, kept for
    # its settings' `history_retention_days`.
    retention: list[Forget] = field(default_factory=list)
    # Metric families of the service's own, read from its database when Prometheus scrapes `/metrics`.
    metrics: list[ReadMetrics] = field(default_factory=list)
    # A folder of browser assets served under WEB_PATH: its package.json names the npm libraries
    # (`make install` and the image run `npm ci` there), so pages load no script from a CDN.
    web: Path | None = None

    def __post_init__(self) -> None:
        registered = self.settings.service
        self.title = registered.title
        self.migrations = Path(inspect.getfile(type(self.settings))).with_name("migrations")
        self.consumed_topics = registered.consumed_topics
        self.dead_letter_topic = registered.dead_letter_topic
        if (self.subscriptions or self.projection) and not self.consumed_topics:
            raise ValueError(f"{self.title} consumes records, but the registry names no topic it reads")
        if self.subscriptions and self.projection:
            raise ValueError(f"{self.title} consumes either CloudEvents or other records, not both")
        self.sessions = make_engine(self.settings.database_url)
        self.wakeups = Wakeups(self.sessions)
        # What its routes, job handlers and event handlers open a use case's unit of work with.
        self.units = UnitsOfWork(self.sessions, registered)


class Readiness:
    """Asks each dependency for a sign of life, with a short timeout each, all at once: the database always, Kafka
    and Zeebe once the background work that uses them runs (an app without it has only the database to ask)."""

    TIMEOUT_SECONDS = 3

    def __init__(self, sessions: Engine, producer=None, zeebe=None) -> None:
        self.sessions = sessions
        self.producer = producer
        self.zeebe = zeebe

    async def check(self) -> dict:
        checks = {"database": asyncio.to_thread(self._database)}
        if self.producer is not None:
            checks["kafka"] = asyncio.to_thread(self.producer.list_topics, timeout=self.TIMEOUT_SECONDS)
        if self.zeebe is not None:
            checks["zeebe"] = asyncio.wait_for(self.zeebe.topology(), self.TIMEOUT_SECONDS)
        results = await asyncio.gather(*checks.values(), return_exceptions=True)
        dependencies = {
            name: {"up": False, "error": describe(result)} if isinstance(result, BaseException) else {"up": True}
            for name, result in zip(checks, results, strict=True)
        }
        report: dict[str, Any] = {
            "status": "READY" if all(d["up"] for d in dependencies.values()) else "NOT_READY",
            "dependencies": dependencies,
        }
        backlog = results[0]
        if not isinstance(backlog, BaseException):
            report["outbox"] = backlog
        return report

    def _database(self) -> dict:
        with unit_of_work(self.sessions) as session:
            return outbox_backlog(session)


def polling_loop(name: str, step: Callable[[Connection], int], poll_seconds: float, woken_by: str | None = None):
    """A background loop that runs `step` in a unit of work, at once again while it finds work, and
    otherwise every `poll_seconds` or as soon as a transaction of this process signals `woken_by`."""

    def for_sessions(sessions: Engine, wakeups: Wakeups) -> BackgroundLoop:
        wake = wakeups.event(woken_by) if woken_by else threading.Event()

        def run(stop: threading.Event) -> None:
            failures = FailureBackoff(f"{name} round", log)
            while not stop.is_set():
                wake.clear()
                try:
                    with unit_of_work(sessions) as session:
                        done = step(session)
                except Exception:  # the work stays due and is picked up next round
                    stop.wait(failures.failed())
                    continue
                failures.succeeded()
                if not done:
                    wake.wait(poll_seconds)
        return run

    return for_sessions


@asynccontextmanager
async def background_work(app: FastAPI, service: Service) -> AsyncIterator[None]:
    """The start step of a serving replica, beside its routes: the outbox relay's lanes, the consumer, the retention
    and the service's own loops on threads, and the Zeebe job worker; /ready asks Kafka and Zeebe too while it runs.
    Everything it started is stopped when the block ends."""
    settings = service.settings
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    producer = kafka_producer(settings.kafka_bootstrap)
    zeebe_client = make_client(settings.zeebe_address)
    relay = OutboxRelay(service.sessions, producer, zeebe_client, loop, settings.outbox_poll_seconds,
                        service.wakeups)
    loops: list[BackgroundLoop] = [lane.run for lane in relay.lanes]
    consumer = dict(name=settings.service_name, bootstrap=settings.kafka_bootstrap, group_id=settings.group_id,
                    topics=service.consumed_topics, sessions=service.sessions,
                    dead_letter_topic=service.dead_letter_topic, producer=producer)
    if service.subscriptions:
        loops.append(EventConsumer(subscriptions=service.subscriptions, units=service.units, **consumer).run)
    if service.projection:
        loops.append(ProjectingConsumer(project=service.projection, **consumer).run)
    def forget_old_rows(session: Connection) -> int:
        history = timedelta(days=settings.history_retention_days)
        return (delete_published(session, timedelta(hours=settings.outbox_retention_hours))
                + forget_seen(session, timedelta(hours=settings.inbox_retention_hours))
                + sum(forget(session, history) for forget in service.retention))

    retention = polling_loop("retention", forget_old_rows, RETENTION_POLL_SECONDS)
    loops += [make(service.sessions, service.wakeups) for make in [retention, *service.background]]
    threads = [threading.Thread(target=run, args=(stop,), daemon=True, name=getattr(run, "__qualname__", "loop"))
               for run in loops]
    for thread in threads:
        thread.start()
    worker = None
    worker_task = None
    if service.jobs is not None:
        router = service.jobs.router(concurrency=settings.job_concurrency, sessions=service.sessions,
                                     units=service.units, settings=settings, **service.job_dependencies)
        worker = SupervisedWorker(settings.zeebe_address, f"{settings.service_name}-worker", router)
        worker_task = asyncio.create_task(worker.run())
    app.state.readiness = Readiness(service.sessions, producer, zeebe_client)
    try:
        yield
    finally:
        stop.set()
        if worker is not None:
            await worker.stop()
            worker_task.cancel()
        for thread in threads:
            await asyncio.to_thread(thread.join, 15)


def create_app(service: Service, *, run_loops: bool = False) -> FastAPI:
    """The service's HTTP app. Its routes need only the database, so a test calls them in-process; the running
    service (`serve`) passes `run_loops=True` for the background work (`background_work`) beside them."""
    settings = service.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        collectors = [ReadAtScrape(service.sessions, read) for read in (backlog_metrics, *service.metrics)]
        for collector in collectors:
            REGISTRY.register(collector)
        try:
            async with background_work(app, service) if run_loops else nullcontext():
                log.info("%s service ready on %s:%s", settings.service_name, settings.http_host, settings.http_port)
                yield
        finally:
            for collector in collectors:
                REGISTRY.unregister(collector)

    # Every route answers errors with a problem (shared/runtime/problems.py), and the OpenAPI document says so.
    app = FastAPI(title=service.title, lifespan=lifespan, responses=PROBLEMS_OF_EVERY_ROUTE,
                  swagger_ui_init_oauth={"clientId": settings.auth_public_client,
                                         "usePkceWithAuthorizationCodeGrant": True})
    app.state.sessions = service.sessions
    app.state.units = service.units
    app.state.settings = settings
    app.state.readiness = Readiness(service.sessions)
    app.state.token_verifier = TokenVerifier(settings.auth_issuer, settings.auth_audience, settings.jwks_url,
                                             settings.auth_jwks_refresh_seconds)
    app.state.caller_rate_limit = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst,
                                               "by this token's subject")
    secured, public = _by_access(service)
    app.include_router(secured, responses=AUTH_PROBLEMS)
    app.include_router(public)
    _document_login(app, settings, service.api.routes)
    if service.web is not None:
        app.mount(WEB_PATH, StaticFiles(directory=service.web), name="web")
        _serve_page_login(app, settings)
    # The last added is outermost: every request is timed, refused ones too; the rate per address is counted
    # before a body is read or a token checked.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RateLimit, per_second=settings.address_rate_limit_per_second,
                       burst=settings.address_rate_limit_burst)
    app.add_middleware(RequestTimer)

    @app.get("/health", tags=["operations"])
    def health() -> dict:
        """Liveness: the process answers. Whether it can work is `/ready`."""
        return {"status": "UP", "service": settings.service_name}

    @app.get("/ready", tags=["operations"], responses={503: {"description": "A dependency is unreachable"}})
    async def ready(request: Request) -> JSONResponse:
        """Readiness: each dependency and whether it answers now, plus the outbox backlog."""
        report = await request.app.state.readiness.check()
        report["service"] = settings.service_name
        return JSONResponse(status_code=200 if report["status"] == "READY" else 503, content=report)

    @app.get(METRICS_PATH, tags=["operations"], response_class=PlainTextResponse)
    def metrics() -> Response:
        """Prometheus metrics: HTTP, jobs, outbox, consumer and process, and the service's own."""
        return exposition()

    install_problems(app)
    return app


AUTH_PROBLEMS = {
    401: problem("No valid bearer token: missing, expired, or not issued for this API by the suite's realm"),
    403: problem("The token's roles do not allow this"),
    413: problem("The request body is larger than the service takes (64 KiB unless configured)"),
    429: problem("Too many requests from this address or by this token's subject; the Retry-After header says when "
                 "to try again"),
    503: problem("A dependency is unavailable now (the identity provider's signing keys, the database); "
                 "retry after a moment"),
}


def _by_access(service: Service) -> tuple[APIRouter, APIRouter]:
    """The service's routes that need a token and those open to anyone; a route that says neither is refused."""
    secured, public = APIRouter(), APIRouter()
    for route in service.api.routes:
        roles = route_access(route.dependant.dependencies) if isinstance(route, APIRoute) else frozenset()
        if roles is None:
            raise ValueError(f"{service.title}: {route.path} says nowhere who may call it; give it "
                             "dependencies=[allow(role, ...)] or [PUBLIC] (shared/runtime/auth.py)")
        (secured if roles else public).routes.append(route)
    return secured, public


PAGE_LOGIN = Path(__file__).with_name("web") / "login.js"


def _serve_page_login(app: FastAPI, settings: ServiceSettings) -> None:
    """What a page of the service needs to log in (web/package.json must name keycloak-js): `login.js`, a module
    the page loads, and `login-config`, the realm and public client it logs in to."""
    base, _, realm = settings.auth_issuer.rpartition("/realms/")

    @app.get("/login-config", tags=["operations"])
    def login_config() -> dict:
        """The realm and public client the service's pages log in to (keycloak-js's configuration)."""
        return {"url": base, "realm": realm, "clientId": settings.auth_public_client}

    @app.get("/login.js", include_in_schema=False)
    def login_module() -> FileResponse:
        return FileResponse(PAGE_LOGIN, media_type="text/javascript")


def _document_login(app: FastAPI, settings: ServiceSettings, routes: list) -> None:
    """Beside the bearer token, the OpenAPI document offers a login through the realm's public client, so
    Swagger UI's Authorize button logs in with the authorisation code flow and PKCE; each operation names the
    roles it allows (`x-roles`, and in words in its description)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        document.setdefault("components", {}).setdefault("securitySchemes", {})["login"] = {
            "type": "oauth2", "description": f"Log in to the realm at {settings.auth_issuer}",
            "flows": {"authorizationCode": {"authorizationUrl": settings.oidc_endpoint("auth"),
                                            "tokenUrl": settings.oidc_endpoint("token"), "scopes": {}}}}
        for route in routes:
            roles = route_access(route.dependant.dependencies) if isinstance(route, APIRoute) else None
            for method in getattr(route, "methods", None) or ():
                operation = document["paths"].get(route.path_format, {}).get(method.lower())
                if operation is None or not roles:
                    continue
                operation["security"].append({"login": []})
                operation["x-roles"] = sorted(roles)
                allowed = f"Allowed roles: {', '.join(sorted(roles))}."
                operation["description"] = f"{operation.get('description', '')}\n\n{allowed}".strip()
        return document

    app.openapi = openapi


def serve(service: Service) -> None:
    """Entry point of `python -m services.<name>`: migrate the schema, then run until stopped."""
    settings = service.settings
    service_logging.configure(settings.service_name, settings.log_format)
    upgrade_to_head(service.migrations, settings.database_url, settings.migration_lock_timeout_seconds)
    tracing.configure(settings.service_name, settings.tracing_endpoint, settings.tracing_sample_ratio)
    if settings.tracing_sql:
        tracing.instrument_sql(service.sessions)
    app = create_app(service, run_loops=True)
    tracing.instrument_app(app)
    # The access lines are RequestLog's (with the duration, without the query string), not uvicorn's.
    uvicorn.run(service_logging.RequestLog(app), host=settings.http_host,
                port=settings.http_port, log_config=service_logging.config(settings.service_name, settings.log_format),
                log_level="info", access_log=False)
