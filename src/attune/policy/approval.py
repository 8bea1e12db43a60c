"""Playbook governance: a playbook version is inactive until someone other than the person who
submitted it approved exactly that text (four-eyes principle); any edit needs a new approval.

People, not YAML fields: the submitter is the authenticated actor (the API key's name, or the
CLI's ``--actor``); the playbook's own ``author`` field is a claim anyone can write and is only
recorded. The approver must be a different actor who holds the ``approver`` role (callers
check the role: an API key scope, or an active key of that name for the CLI).

Flow: ``submit`` records the version, the submitter and a digest of its YAML (and content
file); ``approve`` refuses the submitter, an actor without the role and a changed file;
``active`` keeps only approved, unchanged playbooks. Every step is audited with both people.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from attune.policy.loader import LoadedPlaybook
from attune.privacy.audit import AuditLog
from attune.storage.store import Store
from attune.storage.tables_privacy import playbook_reviews


class GovernanceError(ValueError):
    """A governance step that is not allowed; ``str()`` says why."""


def digest(lp: LoadedPlaybook) -> str:
    h = hashlib.sha256(lp.path.read_bytes())
    if lp.playbook.content_file:
        content = lp.path.parent / lp.playbook.content_file
        if content.exists():
            h.update(content.read_bytes())
    return h.hexdigest()


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


@dataclass
class Governance:
    store: Store
    audit: AuditLog | None = None
    clock: Callable[[], float] = time.time

    def status(self, key: str) -> dict[str, Any] | None:
        with self.store.connect() as conn:
            row = conn.execute(
                select(playbook_reviews).where(playbook_reviews.c.key == key)
            ).first()
        if row is None:
            return None
        out = dict(row._mapping)
        return out | {"submitted_by": out["author"]}  # the column predates the word

    def submit(self, lp: LoadedPlaybook, actor: str, via: str | None = None) -> dict[str, Any]:
        """``actor``: the authenticated person submitting; ``via``: how (key id, CLI), audited."""
        key, dig = lp.playbook.key, digest(lp)
        row = self.status(key)
        if row is not None and row["digest"] == dig:
            return row  # the same text again: nothing changes
        if row is not None and row["approved_by"]:
            raise GovernanceError(
                f"{key} was approved with different content; an edited "
                "playbook needs a new version number"
            )
        values = {
            "key": key,
            "digest": dig,
            "author": actor,  # the submitter, as authenticated; never the YAML's author field
            "submitted_at": self.clock(),
            "approved_by": None,
            "approved_at": None,
        }
        with self.store.begin() as conn:
            conn.execute(playbook_reviews.delete().where(playbook_reviews.c.key == key))
            conn.execute(playbook_reviews.insert().values(**values))
        if self.audit:
            self.audit.append(
                "playbook_submitted",
                actor,
                None,
                {
                    "playbook": key,
                    "digest": dig,
                    "submitted_by": actor,
                    "yaml_author": lp.playbook.author,
                    "via": via,
                },
            )
        return values | {"submitted_by": actor}

    def approve(
        self, lp: LoadedPlaybook, approver: str, *, has_role: bool, via: str | None = None
    ) -> dict[str, Any]:
        """``has_role``: whether the caller verified that ``approver`` holds the approver role."""
        key, dig = lp.playbook.key, digest(lp)
        row = self.status(key)
        if row is None:
            raise GovernanceError(f"{key} was never submitted for review")
        if _same_person(approver, row["author"]):
            raise GovernanceError(
                f"{approver} submitted {key} and cannot approve it: someone else must"
            )
        if not has_role:
            raise GovernanceError(
                f"{approver} does not hold the approver role: create a key for them with "
                "'attune keys create NAME --scope approver'"
            )
        if row["digest"] != dig:
            raise GovernanceError(f"{key} changed since it was submitted; submit it again")
        if row["approved_by"]:
            return row
        at = self.clock()
        with self.store.begin() as conn:
            conn.execute(
                update(playbook_reviews)
                .where(playbook_reviews.c.key == key)
                .values(approved_by=approver, approved_at=at)
            )
        if self.audit:
            self.audit.append(
                "playbook_approved",
                approver,
                None,
                {
                    "playbook": key,
                    "digest": dig,
                    "submitted_by": row["author"],
                    "approved_by": approver,
                    "via": via,
                },
            )
        return {**row, "approved_by": approver, "approved_at": at}

    def is_active(self, lp: LoadedPlaybook) -> bool:
        row = self.status(lp.playbook.key)
        return bool(row and row["approved_by"] and row["digest"] == digest(lp))

    def active(self, playbooks: list[LoadedPlaybook]) -> list[LoadedPlaybook]:
        return [lp for lp in playbooks if self.is_active(lp)]
