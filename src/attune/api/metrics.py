"""Prometheus metrics for one app (its own registry, so several apps in one process, as in
tests, do not collide). Counts only: never an id, a text or a subject."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from attune.storage import tables

ACTIVE_S = 30 * 60  # a session with an event in the last 30 minutes is active


class Metrics:
    def __init__(self, app_state: Any) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "attune_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "attune_http_request_seconds",
            "HTTP request latency by route template.",
            ["route"],
            registry=self.registry,
        )
        self.events = Counter(
            "attune_events",
            "Ingested events by route and outcome (accepted, duplicate, refused).",
            ["route", "outcome"],
            registry=self.registry,
        )
        self.decision = Histogram(
            "attune_decision_seconds",
            "Time from an event reaching the engine to the session's decision.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self.registry.register(_Live(app_state))

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if status >= 400 and route.startswith("/v1/") and method == "POST":
            self.events.labels(route, "refused").inc()

    def ingested(self, route: str, accepted: int, duplicates: int, refused: int = 0) -> None:
        if accepted - duplicates:
            self.events.labels(route, "accepted").inc(accepted - duplicates)
        if duplicates:
            self.events.labels(route, "duplicate").inc(duplicates)
        if refused:
            self.events.labels(route, "refused").inc(refused)


class _Live(Collector):
    """Read at scrape time: queue depths, dead letters, consent changes, active sessions."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Any]:
        engine, store = self.state.engine, self.state.store
        queue = GaugeMetricFamily(
            "attune_queue_depth", "Items waiting, by queue.", labels=["queue"]
        )
        queue.add_metric(["rows_unwritten"], sum(len(r) for r in engine._rows.values()))
        queue.add_metric(["write_retries"], len(engine._retry))
        queue.add_metric(["webhooks"], len(getattr(self.state.webhooks, "_tasks", ()) or ()))
        yield queue
        dead = CounterMetricFamily(
            "attune_dead_letters",
            "Work given up: webhook deliveries after their retries, rows the database refused.",
            labels=["kind"],
        )
        dead.add_metric(["webhook"], float(getattr(self.state.webhooks, "failed", 0)))
        dead.add_metric(["row"], float(getattr(store, "dead_letter_count", 0)))
        yield dead
        now = time.time()
        active = sum(1 for rt in list(engine.sessions.values()) if now - rt.last_at < ACTIVE_S)
        yield GaugeMetricFamily(
            "attune_active_sessions", "Sessions with an event in the last 30 minutes.", active
        )
        try:
            with store.connect() as conn:
                changes = conn.execute(select(func.count()).select_from(tables.consents)).scalar()
        except Exception:  # the scrape still answers; /readyz reports the database
            changes = None
        if changes is not None:
            yield CounterMetricFamily(
                "attune_consent_changes", "Consent grants and revocations recorded.", changes
            )
