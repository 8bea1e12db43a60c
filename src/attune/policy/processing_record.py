"""Draft the record of processing (GDPR Art. 30) and a DPIA skeleton (Art. 35) from the live
configuration and playbooks. A draft: the controller completes the marked fields."""

from __future__ import annotations

from typing import Any

from attune.config import Settings
from attune.policy import redlines
from attune.policy.approval import Governance
from attune.policy.loader import LoadedPlaybook
from attune.privacy.disclosure import VERSION as DISCLOSURE_VERSION
from attune.privacy.retention import ttl_table
from attune.signals import registry

TODO = "<to be completed by the controller>"
RISKS = [
    (
        "Emotion inferred wrongly, journey adapted for the wrong reason",
        "Calibrated models with an 'uncertain' state; adaptations only simplify or add help; "
        "standard journey always available; human feedback measured per model version.",
    ),
    (
        "Manipulation: pressure or offers when a customer is upset",
        "Red lines R1/R2 refuse price, credit or eligibility changes and offers while "
        "frustrated or anxious; validated when a playbook loads.",
    ),
    (
        "Analysis without a valid basis or without the customer knowing",
        "Consent ledger per subject/modality/purpose; voice and face always opt-in and refused "
        "until the AI disclosure is acknowledged (red line R5, gate check).",
    ),
    (
        "Emotion recognition of employees (AI Act Art. 5(1)(f))",
        "Employees/agents flagged and never analysed; playbooks aimed at staff refused (R3).",
    ),
    (
        "Vulnerable customers harmed by automation",
        "Vulnerable moments require a human in the loop (R4).",
    ),
    (
        "Re-identification or leakage of personal data",
        "HMAC pseudonyms at the gate, PII redacted before storage or logs, identities kept apart "
        "behind their own scope, short TTLs for raw data, scoped API keys.",
    ),
    (
        "Undetected misuse or tampering",
        "Hash-chained audit log of reads, decisions, consent changes, approvals and rights "
        "actions; 'attune audit verify' names any edited, deleted or reordered entry.",
    ),
]


def _playbook_entry(lp: LoadedPlaybook, gov: Governance | None) -> dict[str, Any]:
    pb = lp.playbook
    review = gov.status(pb.key) if gov else None
    return {
        "playbook": pb.key,
        "author": pb.author,
        "audience": pb.audience,
        "approved_by": review["approved_by"] if review else None,
        "active": gov.is_active(lp) if gov else None,
        "red_line_violations": [f"{v.rule}: {v.message}" for v in redlines.check(pb)],
        "moments": {
            name: {
                "watched_states": [w.state for w in m.watch],
                "adaptations": sorted({w.adapt.mode for w in m.watch}),
                "vulnerable": m.vulnerable,
                "human_in_loop": m.human_in_loop,
            }
            for name, m in pb.moments.items()
        },
    }


def draft(
    settings: Settings,
    playbooks: list[LoadedPlaybook],
    gov: Governance | None = None,
    analyzers: dict[str, str] | None = None,
) -> dict[str, Any]:
    legal = {
        m: (
            "consent (always opt-in)"
            if m in registry.biometric()
            else settings.legal_basis.get(m, registry.spec(m).legal_basis)
        )
        for m in registry.enabled(settings.modalities)
    }
    return {
        "record_of_processing": {
            "controller": TODO,
            "dpo_contact": TODO,
            "purposes": [
                "Adapt customer journeys to the customer's apparent state "
                "(simplify, reassure, hand over to a person, suppress offers)",
                "Measure whether adaptations help (experiments, KPIs)",
            ],
            "data_subjects": ["customers (employees and agents are excluded)"],
            "data_categories": {
                "behaviour": "clicks, navigation, dwell times (no form contents)",
                "text": "chat messages and transcripts, PII redacted before storage",
                "voice": "prosodic features of consented audio; audio itself not stored",
                "face": "expression probabilities from consented video; images not stored",
                "derived": "signals, fused emotional states, decisions with explanations",
                "outcomes": "conversion, abandonment, CSAT and similar KPI events",
            },
            "modalities_enabled": registry.enabled(settings.modalities),
            "legal_basis_per_modality": legal,
            "recipients": (
                [f"{len(settings.webhook_urls)} configured webhook(s) for hand-over"]
                if settings.webhook_urls
                else ["none outside this installation"]
            ),
            "third_country_transfers": "none: self-hosted, no signal leaves the installation",
            "retention": ttl_table(settings.retention),
            "security_measures": [
                "HMAC pseudonyms (key fingerprint in the audit log)",
                "PII redaction before storage and logging",
                "scoped API keys (ingest, read, analyst, privacy, admin)",
                "hash-chained audit log",
                "rate limits and request guards",
            ],
        },
        "dpia": {
            "description": "Emotion recognition (AI Act Art. 3(39)) used to adapt customer "
            "journeys; limited-risk transparency duties under Art. 50(3).",
            "disclosure_text_version": DISCLOSURE_VERSION,
            "necessity_and_proportionality": TODO,
            "playbooks": [_playbook_entry(lp, gov) for lp in playbooks],
            "models_in_use": analyzers or {},
            "risks_and_mitigations": [{"risk": r, "mitigation": m} for r, m in RISKS],
            "residual_risk": TODO,
            "dpo_opinion": TODO,
        },
    }


def to_markdown(report: dict[str, Any]) -> str:
    rop, dpia = report["record_of_processing"], report["dpia"]
    out = ["# Record of processing (draft)", ""]
    for key in ("controller", "dpo_contact", "third_country_transfers"):
        out.append(f"- **{key.replace('_', ' ')}**: {rop[key]}")
    out += [
        "",
        "## Purposes",
        *[f"- {p}" for p in rop["purposes"]],
        "",
        "## Legal basis per modality",
        *[f"- {m}: {b}" for m, b in rop["legal_basis_per_modality"].items()],
        "",
        "## Data categories",
        *[f"- {k}: {v}" for k, v in rop["data_categories"].items()],
        "",
        "## Retention",
        "",
        "| data class | TTL | setting |",
        "|---|---|---|",
        *[
            f"| {r['data_class']} | {_human(r['ttl_s'])} | `{r['setting']}` |"
            for r in rop["retention"]
        ],
        "",
        "## Security measures",
        *[f"- {s}" for s in rop["security_measures"]],
        "",
        "# DPIA skeleton",
        "",
        dpia["description"],
        "",
        f"Disclosure text version: {dpia['disclosure_text_version']}",
        "",
        "## Playbooks",
    ]
    for pb in dpia["playbooks"]:
        state = "active" if pb["active"] else "INACTIVE (not approved by a second person)"
        out.append(
            f"- {pb['playbook']} by {pb['author']}: {state}; approved by "
            f"{pb['approved_by'] or '-'}; red-line violations: "
            f"{len(pb['red_line_violations'])}"
        )
    out += [
        "",
        "## Risks and mitigations",
        "",
        "| risk | mitigation |",
        "|---|---|",
        *[f"| {r['risk']} | {r['mitigation']} |" for r in dpia["risks_and_mitigations"]],
        "",
        f"Necessity and proportionality: {dpia['necessity_and_proportionality']}",
        f"Residual risk: {dpia['residual_risk']}",
        f"DPO opinion: {dpia['dpo_opinion']}",
        "",
    ]
    return "\n".join(out)


def _human(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
