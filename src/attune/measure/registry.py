"""Experiment registry on the store: definitions fixed before start, exposures, stops."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select, update

from attune.measure.experiments import ExperimentDefinition, Exposure
from attune.storage.store import Store
from attune.storage.tables_measure import experiment_exposures, experiments


class ExperimentError(ValueError):
    pass


def register(store: Store, d: ExperimentDefinition, at: float | None = None) -> str:
    """Store a draft; re-registering is allowed only before start (the fingerprint is kept)."""
    now = time.time() if at is None else at
    row = get_row(store, d.id)
    with store.begin() as conn:
        if row is None:
            conn.execute(
                experiments.insert().values(
                    id=d.id,
                    definition=d.to_dict(),
                    fingerprint=d.fingerprint(),
                    created_at=now,
                    status="draft",
                )
            )
        elif row["status"] != "draft":
            if row["fingerprint"] != d.fingerprint():
                raise ExperimentError(f"experiment {d.id!r} has started; its definition is fixed")
        else:
            conn.execute(
                update(experiments)
                .where(experiments.c.id == d.id)
                .values(definition=d.to_dict(), fingerprint=d.fingerprint())
            )
    return d.fingerprint()


def start(store: Store, experiment_id: str, at: float | None = None) -> None:
    row = get_row(store, experiment_id)
    if row is None:
        raise ExperimentError(f"no experiment {experiment_id!r}")
    if row["status"] != "draft":
        raise ExperimentError(f"experiment {experiment_id!r} is already {row['status']}")
    with store.begin() as conn:
        conn.execute(
            update(experiments)
            .where(experiments.c.id == experiment_id)
            .values(status="running", started_at=time.time() if at is None else at)
        )


def stop(store: Store, experiment_id: str, reason: str, at: float | None = None) -> None:
    with store.begin() as conn:
        conn.execute(
            update(experiments)
            .where(experiments.c.id == experiment_id)
            .values(
                status="stopped", stop_reason=reason, stopped_at=time.time() if at is None else at
            )
        )


def get_row(store: Store, experiment_id: str) -> dict[str, Any] | None:
    with store.connect() as conn:
        row = conn.execute(select(experiments).where(experiments.c.id == experiment_id)).first()
    return dict(row._mapping) if row else None


def list_rows(store: Store) -> list[dict[str, Any]]:
    """Every registered experiment, newest first (without the definition body)."""
    with store.connect() as conn:
        rows = conn.execute(select(experiments).order_by(experiments.c.created_at.desc())).all()
    return [{k: v for k, v in dict(r._mapping).items() if k != "definition"} for r in rows]


def definition(store: Store, experiment_id: str) -> ExperimentDefinition | None:
    row = get_row(store, experiment_id)
    return ExperimentDefinition.from_dict(row["definition"]) if row else None


def known_ids(store: Store) -> set[str]:
    """Experiments this database knows: registered, or with exposures logged by the engine."""
    from attune.storage import tables_measure

    with store.connect() as conn:
        registered = {r[0] for r in conn.execute(select(tables_measure.experiments.c.id))}
        exposed = {
            r[0]
            for r in conn.execute(
                select(tables_measure.experiment_exposures.c.experiment_id).distinct()
            )
        }
    return registered | exposed


def log_exposure(store: Store, e: Exposure) -> None:
    """First exposure wins (idempotent: later ones for the same subject are ignored)."""
    with store.begin() as conn:
        conn.execute(
            store.insert_ignore(experiment_exposures),
            [
                {
                    "experiment_id": e.experiment_id,
                    "subject": e.subject,
                    "arm": e.arm,
                    "session_id": e.session_id,
                    "at": e.at,
                }
            ],
        )


def exposure_counts(store: Store, experiment_id: str) -> dict[str, int]:
    t = experiment_exposures
    with store.connect() as conn:
        rows = conn.execute(
            select(t.c.arm, func.count())
            .where(t.c.experiment_id == experiment_id)
            .group_by(t.c.arm)
        ).all()
    return {str(arm): int(n) for arm, n in rows}


def backfill_exposures(store: Store, experiment_id: str) -> int:
    """Log the first exposure of every subject whose sessions carry an arm (idempotent).

    Until the engine logs exposures as it assigns, a subject's first stored session is their
    exposure; this writes them so the exposure-level SRM check has data.
    """
    from attune.storage import tables

    s = tables.sessions
    first: dict[str, Any] = {}
    with store.connect() as conn:
        for row in conn.execute(
            select(s.c.subject, s.c.id, s.c.arm, s.c.started_at)
            .where(s.c.arm.in_(("control", "adaptive")))
            .order_by(s.c.started_at)
        ):
            first.setdefault(row.subject, row)
    rows = [
        {
            "experiment_id": experiment_id,
            "subject": r.subject,
            "arm": r.arm,
            "session_id": r.id,
            "at": r.started_at,
        }
        for r in first.values()
    ]
    if rows:
        with store.begin() as conn:
            conn.execute(store.insert_ignore(experiment_exposures), rows)
    return len(rows)
