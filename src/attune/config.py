"""One settings object, read from ATTUNE_* environment variables and an optional YAML file
(ATTUNE_CONFIG). Every other module takes its configuration from here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_PSEUDONYM_KEY = "change-me-attune-dev-key"


class RetentionSettings(BaseSettings):
    raw_events_s: int = 6 * 3600
    text_s: int = 3600
    audio_features_s: int = 3600
    signals_s: int = 30 * 86400
    states_s: int = 30 * 86400
    decisions_s: int = 90 * 86400
    aggregates_s: int = 3 * 365 * 86400


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATTUNE_", env_nested_delimiter="__")

    database_url: str = "sqlite:///attune.db"
    pseudonym_key: str = DEV_PSEUDONYM_KEY  # HMAC key; set a real secret in production
    playbook_dir: Path | None = None  # defaults to the shipped example playbooks
    # How accepted events reach an engine (attune.transport): in this process, or a stream
    # that ``attune worker`` processes consume.
    transport: Literal["inprocess", "nats"] = "inprocess"
    partitions: int = Field(8, ge=1, le=1024)  # stream partitions (session id hash)
    nats_url: str = "nats://127.0.0.1:4222"
    # Names on the NATS server: several deployments can share one server with their own.
    nats_stream: str = "ATTUNE_EVENTS"
    nats_subject: str = "attune.events"  # partitions are <subject>.<n>
    nats_decisions_subject: str = "attune.decisions"  # <subject>.<session>
    # NATS mode: how long the answer for a session the workers have not seen yet waits for its
    # first decision (0: answer at once, without a decision).
    queued_answer_wait_s: float = Field(0.5, ge=0.0, le=10.0)
    session_cache: Literal["memory", "redis"] = "memory"
    redis_prefix: str = "attune:"  # key prefix: deployments can share one Redis
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Modalities switched on; None: every registered one (see attune.signals.registry).
    modalities: list[str] | None = None
    # Legal basis per modality, over each modality's own default (behaviour: legitimate
    # interest; text: consent); biometric ones (voice, face) are always opt-in whatever is set.
    legal_basis: dict[str, str] = Field(default_factory=dict)
    # Models whose training data forbids commercial use load only when named here (or "all"):
    # the operator's explicit opt-in, e.g. ["voice-emotion", "face-expression"].
    enable_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    purge_interval_s: int = 300
    max_body_bytes: int = 1_000_000
    # Requests per second and burst per API key (or per address without one); 429 beyond.
    # A site's web pages share its one ingest key: size this for the whole site's traffic.
    rate_per_s: float = 1000.0
    rate_burst: int = 5000
    # Pseudonym keys rotated out, kept while data made under them may still exist.
    # Comma-separated in ATTUNE_PSEUDONYM_RETIRED_KEYS, newest first.
    pseudonym_retired_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Only playbooks approved by someone other than their author (and unchanged since) run;
    # until then everyone gets the standard journey. Turn off only in a sandbox.
    require_playbook_approval: bool = True
    # Sandbox: try Attune before any review, the example playbooks active without approval and
    # a SANDBOX banner in the dashboard. Production (ATTUNE_PRODUCTION=true) refuses it.
    sandbox: bool = False
    production: bool = False
    log_format: Literal["text", "json"] = "text"  # access and service logs
    bootstrap_admin_key: str | None = None  # created at start if set (never logged)
    webhook_urls: list[str] = Field(default_factory=list)  # escalations and hard stops go here
    webhook_secret: str | None = None  # signs webhooks (X-Attune-Signature), see docs/handoffs.md
    # Embedded default: the longest a committed-nothing-pending writer sleeps (acknowledged
    # events never wait for it: they are committed before their answer).
    flush_interval_s: float = 0.25
    # Failed authentications per client address: beyond this, 429 (bogus keys cannot rotate
    # round it, the bucket is the address).
    auth_failures_per_s: float = 2.0
    auth_failure_burst: int = 20
    # Servers and workers re-read consents, acknowledgements, flags and tombstones this often
    # (an erasure or withdrawal by the CLI or another process bites everywhere within it).
    consent_refresh_s: float = 0.5
    hard_stop_check_s: float = 60.0  # how often a running experiment's guardrails are checked
    # Origins whose pages may call the API from a browser (the tracker). "*" suits the ingest
    # key, which is write-only; restrict it where other keys are used from browsers.
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.production and self.sandbox:
            raise ValueError("sandbox mode is refused with production settings (ATTUNE_PRODUCTION)")
        if self.production and self.pseudonym_key == DEV_PSEUDONYM_KEY:
            raise ValueError("production needs a secret ATTUNE_PSEUDONYM_KEY, not the example one")
        if self.sandbox:
            self.require_playbook_approval = False
        return self

    @field_validator("database_url", mode="after")
    @classmethod
    def _plain_path(cls, value: str) -> str:
        return as_url(value)

    @field_validator("pseudonym_retired_keys", "enable_models", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value


def as_url(value: str) -> str:
    """A database URL from what a person types: a plain path is a SQLite file."""
    value = value.strip()
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def load_settings(**overrides: Any) -> Settings:
    data: dict[str, Any] = {}
    path = os.environ.get("ATTUNE_CONFIG")
    if path:
        data = yaml.safe_load(Path(path).read_text()) or {}
    data.update(overrides)
    return Settings(**data)
