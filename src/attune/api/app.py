"""The FastAPI application over one assembly (``attune.assembly.build``): routers, guards and
the background work of a serving process (flushing, retention, guardrails, the transport)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from attune import __version__
from attune.api import errors
from attune.api.keys import KeyRing
from attune.api.logs import install_access_log
from attune.api.metrics import Metrics
from attune.api.routers import ROUTERS, media
from attune.api.segment import install_segment
from attune.api.visitor_tokens import HEADER, VisitorTokens
from attune.assembly import Assembly, build
from attune.config import Settings, load_settings
from attune.measure.stopper import attach, watch_hard_stops
from attune.policy.assignment import Experiment
from attune.privacy.abuse import RateLimiter, install_guards
from attune.transport.base import open_transport

log = logging.getLogger("attune.api")


def create_app(
    settings: Settings | None = None,
    experiment: Experiment | None = None,
    assembly: Assembly | None = None,
) -> FastAPI:
    settings = settings or (assembly.settings if assembly else load_settings())
    parts = assembly or build(settings, experiment=experiment)
    engine, store, privacy = parts.engine, parts.store, parts.privacy
    if store is None or privacy is None:
        raise ValueError("the API serves a persistent assembly (a store and privacy services)")
    transport = open_transport(settings, engine, parts.delivery)
    keys = KeyRing(store)
    if settings.bootstrap_admin_key and keys.verify(settings.bootstrap_admin_key) is None:
        keys.create("bootstrap-admin", ["admin"], raw=settings.bootstrap_admin_key)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def flusher() -> None:
            while True:
                await asyncio.sleep(settings.flush_interval_s)
                batch = engine.drain()  # quick, on the loop; the database write off it
                try:
                    await asyncio.to_thread(engine.write, batch)
                except Exception:  # keep serving; the rows wait for the next try
                    log.exception("flush failed; its rows are kept for the next one")

        async def syncer() -> None:
            # erasures and withdrawals made by the CLI or another process bite here too
            while True:
                await asyncio.sleep(settings.consent_refresh_s)
                try:
                    changes = await asyncio.to_thread(privacy.ledger.refresh)
                    privacy.apply(*changes)  # on the loop, where events are ingested
                except Exception:
                    log.exception("reading consent changes failed; trying again")

        await transport.start()
        if transport.queues and transport.cache is not None:  # type: ignore[attr-defined]
            privacy.session_forgetters.append(transport.cache.forget)  # type: ignore[attr-defined]
        # in-process: the transport's group commit writes (a 2xx means stored); a queueing
        # transport leaves only this process's own rows (audit) to the timer
        tasks = [asyncio.create_task(flusher())] if transport.queues else []
        tasks.append(asyncio.create_task(syncer()))
        if engine.experiment is not None:  # guardrails watched while the experiment runs
            attach(engine, store)
            tasks.append(
                asyncio.create_task(
                    watch_hard_stops(app.state, engine.experiment.id, settings.hard_stop_check_s)
                )
            )
        # A revocation closes the subject's open voice/face streams at once.
        privacy.stream_closers.append(media.close_streams)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            engine.flush()
            await parts.delivery.webhooks.drain()
            await transport.close()

    app = FastAPI(
        title="Attune",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served offline by routers/docs.py
        redoc_url=None,
        description="Notice how customers feel, adapt the journey, measure whether "
        "it helps. Segment-compatible ingest under /v1.",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.engine = engine
    app.state.privacy = privacy
    app.state.delivery = parts.delivery
    app.state.handoffs = parts.handoffs
    app.state.outreach = parts.outreach
    app.state.hub = parts.delivery.hub
    app.state.webhooks = parts.delivery.webhooks
    app.state.transport = transport
    app.state.keys = keys
    app.state.visitor_tokens = VisitorTokens(settings.pseudonym_key)
    app.state.auth_failures = RateLimiter(settings.auth_failures_per_s, settings.auth_failure_burst)
    app.state.metrics = Metrics(app.state)
    errors.install(app)
    install_segment(app)  # short paths, writeKey in the body, Segment's size limits
    install_guards(app)  # body size, JSON depth and digits, content type, rate per key
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key", HEADER],
    )
    install_access_log(app)  # outermost: logs and counts every answer, refusals included
    for router in ROUTERS:
        app.include_router(router)
    return app
