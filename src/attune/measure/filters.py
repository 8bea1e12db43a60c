"""Filters a dashboard page or report applies to the sessions it reads: a date range, channel,
segment (new or existing customer), use case (moment) and model version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from attune.measure.kpis import SessionRecord


@dataclass(frozen=True)
class Filters:
    since: float | None = None  # epoch seconds, inclusive
    until: float | None = None  # epoch seconds, exclusive
    channel: str | None = None
    segment: str | None = None  # customer_type: new or existing
    use_case: str | None = None  # the moment, e.g. checkout
    model_version: str | None = None  # an analyzer version the session used, e.g. "text@2"

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError("'until' must come after 'since'")

    @property
    def active(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def keep(self, r: SessionRecord) -> bool:
        if self.since is not None and r.started_at < self.since:
            return False
        if self.until is not None and r.started_at >= self.until:
            return False
        if self.channel is not None and r.channel != self.channel:
            return False
        if self.use_case is not None and r.moment != self.use_case:
            return False
        if self.segment is not None and r.segments.get("customer_type") != self.segment:
            return False
        if self.model_version is not None:
            versions = (r.model_version or "").split(",")
            if self.model_version not in versions:
                return False
        return True

    def apply(self, records: Iterable[SessionRecord]) -> list[SessionRecord]:
        return [r for r in records if self.keep(r)]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}
