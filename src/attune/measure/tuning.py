"""Feedback closes the loop: per-state thresholds suggested from people's judgements become a
*proposed* playbook version that goes through the normal approval (four eyes); it changes
nothing until a person with the approver role, other than whoever submitted it, approved it,
and only then is it installed.

1. ``suggest(judgements, playbook)``: per watched state, the lowest confidence at which the
   states people judged reach the precision target (at least ``min_support`` judgements);
   ``enter`` moves there, ``exit`` keeps its distance below. States without enough feedback
   keep their thresholds, with the reason.
2. ``propose(...)``: writes the changed playbook as a new version (``<version>-tuned.N``) into a
   proposals folder, with its content file, and submits it for review in the name of the person
   who ran it (audited, ``via`` feedback tuning).
3. ``install(...)``: copies an approved proposal over the playbook it replaces; refuses one
   that is not approved (or changed since it was).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from attune.measure.quality import Judgement, propose_threshold
from attune.policy.approval import Governance, GovernanceError
from attune.policy.loader import LoadedPlaybook, load_playbook

VIA = "feedback-tuning"
MIN_GAP = 0.05  # enter and exit stay at least this far apart (hysteresis)


def suggest(
    judgements: Sequence[Judgement],
    lp: LoadedPlaybook,
    target_precision: float = 0.8,
    min_support: int = 20,
) -> list[dict[str, Any]]:
    """One row per watched state per moment: current and suggested thresholds, and why."""
    by_state: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for j in judgements:
        if j.confidence is not None and j.is_correct is not None:
            by_state[j.shown_state].append((float(j.confidence), bool(j.is_correct)))
    out = []
    for moment, m in lp.playbook.moments.items():
        for w in m.watch:
            pairs = by_state.get(w.state, [])
            row: dict[str, Any] = {
                "moment": moment,
                "state": w.state,
                "judged": len(pairs),
                "enter": w.enter,
                "exit": w.exit,
            }
            found: dict[str, Any] = (
                propose_threshold(
                    [c for c, _ in pairs], [ok for _, ok in pairs], target_precision, min_support
                )
                if pairs
                else {"threshold": None, "note": "no feedback on this state"}
            )
            if found.get("threshold") is None:
                row["suggested"] = None
                row["reason"] = found.get("note", "not enough feedback")
            else:
                enter = round(min(0.95, max(MIN_GAP + 0.05, float(found["threshold"]))), 2)
                gap = max(MIN_GAP, w.enter - w.exit)
                row["suggested"] = {"enter": enter, "exit": round(max(0.0, enter - gap), 2)}
                row["reason"] = (
                    f"precision {found['precision']:.0%} over {found['support']} judgements at "
                    f"confidence >= {found['threshold']:.2f} (target {target_precision:.0%})"
                )
            out.append(row)
    return out


def _next_version(version: str, directory: Path, name: str) -> str:
    base = version.split("-tuned.")[0]
    n = 1
    while (directory / f"{name}-{base}-tuned.{n}.yaml").exists():
        n += 1
    return f"{base}-tuned.{n}"


def propose(
    lp: LoadedPlaybook,
    suggestions: list[dict[str, Any]],
    out_dir: Path,
    governance: Governance,
    actor: str,
) -> dict[str, Any]:
    """Write the changed playbook as a new version and submit it for review as ``actor``."""
    changes = [
        s
        for s in suggestions
        if s.get("suggested")
        and (s["suggested"]["enter"], s["suggested"]["exit"]) != (s["enter"], s["exit"])
    ]
    if not changes:
        return {"proposal": None, "changes": [], "note": "no threshold would change"}
    doc = yaml.safe_load(lp.path.read_text())
    for c in changes:
        for w in doc["moments"][c["moment"]]["watch"]:
            if w["state"] == c["state"]:
                w["enter"], w["exit"] = c["suggested"]["enter"], c["suggested"]["exit"]
    out_dir.mkdir(parents=True, exist_ok=True)
    name = lp.playbook.playbook
    doc["version"] = _next_version(str(lp.playbook.version), out_dir, name)
    doc["description"] = (
        f"{doc.get('description', '')} Thresholds proposed from feedback "
        f"(based on {lp.playbook.key})."
    ).strip()
    path = out_dir / f"{name}-{doc['version']}.yaml"
    if lp.playbook.content_file:
        src = lp.path.parent / lp.playbook.content_file
        if src.exists():
            shutil.copy(src, out_dir / lp.playbook.content_file)
    path.write_text(
        "# Proposed by attune tune propose from people's feedback; inactive until approved.\n"
        + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    )
    proposed = load_playbook(path)  # red lines and schema are checked like any playbook
    governance.submit(proposed, actor, via=VIA)
    return {
        "proposal": str(path),
        "playbook": proposed.playbook.key,
        "replaces": lp.playbook.key,
        "submitted_by": actor,
        "status": "submitted for review (inactive until an approver other than the submitter "
        "approves it)",
        "changes": changes,
    }


def install(proposal: Path, playbook_dir: Path, governance: Governance) -> dict[str, Any]:
    """Put an approved proposal in place of the version it replaces (which is moved aside)."""
    lp = load_playbook(proposal)
    if not governance.is_active(lp):
        raise GovernanceError(
            f"{lp.playbook.key} is not approved (or changed since): "
            f"attune governance approve {proposal} --approver REVIEWER"
        )
    replaced = []
    for p in sorted(playbook_dir.glob("*.yaml")):
        if p.name.endswith(".content.yaml"):
            continue
        other = yaml.safe_load(p.read_text()) or {}
        if other.get("playbook") == lp.playbook.playbook:
            p.rename(p.with_name(p.name + ".replaced"))
            replaced.append(p.name)
    target = playbook_dir / proposal.name
    shutil.copy(proposal, target)
    if lp.playbook.content_file:
        src = proposal.parent / lp.playbook.content_file
        if src.exists():
            shutil.copy(src, playbook_dir / lp.playbook.content_file)
    return {"installed": str(target), "playbook": lp.playbook.key, "replaced": replaced}
