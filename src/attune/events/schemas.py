"""Typed event schemas, parsed once at the edge.

Behaviour events follow the Segment Spec (track, page, screen, identify, batch). Attune adds
``sessionId`` (top level or ``context.sessionId``) and ``context.moment``/``context.channel``;
without a sessionId the subject's id names the session. Message, outcome and feedback events
are Attune's own.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

Speaker = Literal["customer", "agent", "bot"]  # only customer turns are analysed
MAX_ID = 200
# Event time is the client's only within this window around the server's receive time (after
# Segment's clock-skew correction with ``sentAt``); outside it, the receive time counts. An
# event dated 2099 can then neither outlive retention nor hold a session's clock.
MAX_FUTURE_S = 300.0
MAX_PAST_S = 5 * 365 * 86_400.0  # backfills of up to five years keep their own time

# What a client may change between two tries of the same call (Segment's libraries stamp
# ``sentAt`` per request); a derived id ignores them, so a retry is still a duplicate.
_NOT_HASHED = frozenset({"sentAt", "receivedAt", "writeKey", "messageId"})


def derived_message_id(data: dict[str, Any]) -> str:
    """A stable id for an event sent without ``messageId`` (Segment makes it optional): the
    hash of its content. Two identical events without ``messageId`` nor ``timestamp`` count once."""
    content = {k: v for k, v in data.items() if k not in _NOT_HASHED}
    digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS, default=str))
    return "drv-" + digest.hexdigest()[:32]


class Page(BaseModel):
    model_config = ConfigDict(extra="allow")
    path: str | None = None
    url: str | None = None
    title: str | None = None
    referrer: str | None = None


class Context(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    session_id: str | None = Field(None, alias="sessionId", max_length=MAX_ID)
    moment: str | None = Field(None, max_length=64)
    channel: str | None = Field(None, max_length=32)
    locale: str | None = Field(None, max_length=35)
    page: Page | None = None
    user_agent: str | None = Field(None, alias="userAgent", max_length=1000)


class _Identified(BaseModel):
    """Fields every incoming event shares: ids, time, context."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    message_id: str = Field(alias="messageId", min_length=1, max_length=MAX_ID)
    anonymous_id: str | None = Field(None, alias="anonymousId", max_length=MAX_ID)
    user_id: str | None = Field(None, alias="userId", max_length=MAX_ID)
    session_id: str | None = Field(None, alias="sessionId", max_length=MAX_ID)
    timestamp: datetime | None = None
    # Set by the API when the event arrives (a client's own value is overwritten); with it,
    # ``epoch`` is clamped. Events handed to the engine directly (batch analysis of history)
    # keep their timestamps.
    received_at: datetime | None = Field(None, alias="receivedAt")
    sent_at: datetime | None = Field(None, alias="sentAt")
    context: Context = Field(default_factory=Context)

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("messageId") and "message_id" not in data:
            kind = cls.model_fields["type"].default if "type" in cls.model_fields else None
            # the same call to /v1/track and inside a batch (with "type") hashes the same
            data = {**data, "messageId": derived_message_id({"type": kind, **data})}
        return data

    @model_validator(mode="after")
    def _needs_an_id(self) -> _Identified:
        if not (self.user_id or self.anonymous_id):
            raise ValueError("one of userId or anonymousId is required")
        return self

    @property
    def raw_subject(self) -> str:
        return str(self.user_id or self.anonymous_id)

    @property
    def epoch(self) -> float:
        if self.received_at is None:
            return _seconds(self.timestamp or datetime.now(UTC))
        received = _seconds(self.received_at)
        if self.timestamp is None:
            return received
        at = _seconds(self.timestamp)
        if self.sent_at is not None:  # the client's clock is off by (sentAt - receivedAt)
            at += received - _seconds(self.sent_at)
        if not received - MAX_PAST_S <= at <= received + MAX_FUTURE_S:
            return received
        return at

    def stamp(self, raw: dict[str, Any] | None = None, sent_at: Any = None) -> None:
        """Mark the event as received now (and ``raw``, the form a stream carries)."""
        now = datetime.now(UTC)
        self.received_at = now
        if sent_at is not None and self.sent_at is None:
            try:
                self.sent_at = _parse_time(sent_at)
            except ValueError:
                self.sent_at = None
        if raw is not None:
            raw["receivedAt"] = now.isoformat()
            if self.sent_at is not None:
                raw["sentAt"] = self.sent_at.isoformat()


def _seconds(ts: datetime) -> float:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    try:
        return ts.timestamp()
    except (OverflowError, OSError, ValueError):  # beyond what the platform's clock holds
        return float("inf")


_TIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _parse_time(value: Any) -> datetime:
    try:
        return _TIME.validate_python(value)
    except Exception as exc:
        raise ValueError(str(exc)) from None


class Track(_Identified):
    type: Literal["track"] = "track"
    event: str = Field(min_length=1, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class PageView(_Identified):
    type: Literal["page"] = "page"
    name: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)

    @property
    def path(self) -> str:
        prop = self.properties.get("path") or self.properties.get("url")
        page = self.context.page
        return str(prop or (page.path if page else None) or self.name or "")


class Screen(_Identified):
    type: Literal["screen"] = "screen"
    name: str | None = Field(None, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)

    @property
    def path(self) -> str:
        return str(self.properties.get("path") or self.name or "")


class Identify(_Identified):
    type: Literal["identify"] = "identify"
    traits: dict[str, Any] = Field(default_factory=dict)


BehaviourEvent = Annotated[Track | PageView | Screen | Identify, Field(discriminator="type")]


class Message(_Identified):
    """A chat message or a transcript turn."""

    type: Literal["message"] = "message"
    speaker: Speaker = "customer"
    text: str = Field(min_length=1, max_length=20_000)
    conversation_id: str | None = Field(None, alias="conversationId", max_length=MAX_ID)
    turn: int | None = Field(None, ge=0)


OutcomeName = Literal[
    "step_completed",
    "conversion",
    "abandonment",
    "order",
    "csat",
    "nps",
    "ces",
    "resolved",
    "contact",
    "churn",
    "downgrade",
    "handled",
]


class Outcome(_Identified):
    """A KPI event: conversion, abandonment, a CSAT answer, churn..."""

    type: Literal["outcome"] = "outcome"
    name: OutcomeName
    value: float | None = None
    step: str | None = Field(None, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class Feedback(_Identified):
    """A person's judgement of a state the system showed."""

    type: Literal["feedback"] = "feedback"
    shown_state: str = Field(alias="shownState", min_length=1, max_length=32)
    correct: bool | None = None
    true_state: str | None = Field(None, alias="trueState", max_length=32)
    rater: str | None = Field(None, max_length=200)
    group: str | None = Field(None, max_length=100)


class Observation(_Identified):
    """A reading for a modality that has no event type of its own (a modality added through
    the registry, e.g. a company's own sensor): ``kind`` names the event kind its analyzer
    reads; ``data`` is what the analyzer gets."""

    type: Literal["observation"] = "observation"
    kind: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    data: dict[str, Any] = Field(default_factory=dict)


class Batch(BaseModel):
    model_config = ConfigDict(extra="allow")
    batch: list[Any] = Field(max_length=5000)
    context: dict[str, Any] | None = None


# Any single event, by its "type" (what a batch holds, what the stream carries).
AnyEvent = Track | PageView | Screen | Identify | Message | Outcome | Feedback | Observation
ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(Annotated[AnyEvent, Field(discriminator="type")])
