"""The FastAPI application: wires store, engine, delivery and routers together."""

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
from attune.api.routers import ROUTERS, media
from attune.api.routers.trust import services_of
from attune.config import Settings, load_settings
from attune.delivery.hub import DecisionHub
from attune.delivery.webhooks import Webhooks
from attune.engine import Engine, Experiment
from attune.measure.stopper import attach, watch_hard_stops
from attune.policy.decision import Decision
from attune.privacy.abuse import install_guards
from attune.storage.store import Store

log = logging.getLogger("attune.api")


def create_app(
    settings: Settings | None = None,
    experiment: Experiment | None = None,
    engine: Engine | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    store = engine.store if engine and engine.store else Store(settings.database_url)
    engine = engine or Engine(settings, store, experiment=experiment)
    hub = DecisionHub()
    webhooks = Webhooks(settings.webhook_urls)

    def deliver(decision: Decision) -> None:
        hub.publish(decision)
        if decision.escalate:
            with contextlib.suppress(RuntimeError):  # no loop outside the server
                webhooks.fire("escalation", decision.to_dict())

    engine.listeners.append(deliver)
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

        if settings.transport == "nats":  # scale-out: events go to the stream, workers decide
            from attune.storage.session_cache import RedisSessionCache
            from attune.transport.nats_bus import NatsBus

            app.state.bus = await NatsBus.connect(settings.nats_url, settings.partitions)
            app.state.decisions = RedisSessionCache(settings.redis_url)
            services_of(app).session_forgetters.append(app.state.decisions.forget)
        tasks = [asyncio.create_task(flusher())]
        if engine.experiment is not None:  # guardrails watched while the experiment runs
            attach(engine, store)
            tasks.append(
                asyncio.create_task(
                    watch_hard_stops(app.state, engine.experiment.id, settings.hard_stop_check_s)
                )
            )
        # A revocation closes the subject's open voice/face streams at once.
        services_of(app).stream_closers.append(media.close_streams)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            engine.flush()
            await webhooks.drain()
            if app.state.bus is not None:
                await app.state.bus.close()

    app = FastAPI(
        title="Attune",
        version=__version__,
        lifespan=lifespan,
        description="Notice how customers feel, adapt the journey, measure whether "
        "it helps. Segment-compatible ingest under /v1.",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.engine = engine
    app.state.hub = hub
    app.state.webhooks = webhooks
    app.state.keys = keys
    app.state.bus = None  # set in the lifespan when the transport is a stream
    errors.install(app)
    install_guards(app)  # body size, JSON depth and digits, content type, rate per key
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key"],
    )
    for router in ROUTERS:
        app.include_router(router)
    return app
