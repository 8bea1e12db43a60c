"""Playbook rules at run time: which moment a session is in, and what it should do now.

Hysteresis: a watched state enters above ``enter`` and leaves below ``exit``; an adaptation holds
at least ``min_dwell_s``; after a change the next waits ``cooldown_s``; at most
``max_interventions`` per session. Uncertain states never start an adaptation. Whatever a
playbook says, offers are off while the customer reads as frustrated, anxious or confused.

Escalation to a person holds (``PolicyState.escalation``): an explicit, confident request for a
person escalates wherever the playbook declares a human channel, in every arm and whatever the
state; once escalated, a session stays so, through later events, cooler messages and
hysteresis, until the handoff is closed or the customer declines (``release``). An intent below
its pack's threshold adds evidence to fusion but never moves the moment nor escalates.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from attune.policy import explain
from attune.policy.decision import Decision
from attune.policy.loader import LoadedPlaybook
from attune.policy.redlines import NO_OFFER_STATES as UPSET
from attune.policy.schema import Moment, Watch
from attune.state.fusion import EmotionalState

_ids = itertools.count()
_PREFIX = os.urandom(4).hex()


def _new_id() -> str:
    return f"{_PREFIX}{next(_ids):010x}"


@dataclass
class PolicyState:
    moment: str | None = None
    active: str | None = None  # the watched state whose adaptation is on
    active_since: float = 0.0
    last_change: float | None = None
    interventions: int = 0
    standard_view: bool = False
    last_key: tuple[Any, ...] | None = None
    last: Decision | None = None
    # Set when the session escalated: reason ("requested" or the watched state), intent, since,
    # and the decision's content; cleared only by ``Policy.release``.
    escalation: dict[str, Any] | None = None
    declined_at: float | None = None
    tried: list[str] = field(default_factory=list)  # adaptations this session already had
    # Modalities switched off for this person (consent refused or withdrawn), set by the
    # engine before each decision; all of them off means the emotion-off journey.
    off: tuple[str, ...] = ()
    all_off: bool = False


class IntentSeen(NamedTuple):
    """An intent signal as the policy reads it."""

    intent: str
    confidence: float
    pack: str | None = None


HUMAN = "human"  # the generic intent of an explicit request for a person


class Policy:
    def __init__(self, playbooks: list[LoadedPlaybook]) -> None:
        self.playbooks = playbooks
        self.moments: dict[str, tuple[LoadedPlaybook, Moment]] = {}
        self._path_moment: dict[str, str | None] = {}
        for lp in playbooks:
            for name, moment in lp.playbook.moments.items():
                if name in self.moments:
                    other = self.moments[name][0].path
                    raise ValueError(f"moment {name!r} is defined in both {other} and {lp.path}")
                self.moments[name] = (lp, moment)

    def label(self, moment: str | None) -> str:
        """How explanations name a moment ("support chat" rather than "support")."""
        entry = self.moments.get(moment) if moment else None
        return (entry[1].label if entry else None) or moment or "journey"

    @property
    def version(self) -> str:
        return ",".join(lp.playbook.key for lp in self.playbooks)

    def intent_threshold(self, pack: str | None) -> float:
        """The confidence an intent of ``pack`` needs to move a moment or escalate (the
        strictest any loaded playbook sets)."""
        cuts = [
            lp.playbook.intent_thresholds.get(
                pack or "", lp.playbook.intent_thresholds.get("default", 0.6)
            )
            for lp in self.playbooks
        ]
        return max(cuts, default=0.6)

    def confident(self, intents: list[IntentSeen]) -> list[str]:
        return [i.intent for i in intents if i.confidence >= self.intent_threshold(i.pack)]

    def human_channel(self, channel: str | None) -> bool:
        """Whether a person can take over on this channel (no channel: the web)."""
        ch = channel or "web"
        return any(ch in lp.playbook.handoff.channels for lp in self.playbooks)

    def note_request(
        self, ps: PolicyState, intents: list[IntentSeen], channel: str | None, now: float
    ) -> bool:
        """An explicit, confident request for a person escalates the session (sticky)."""
        need = max((lp.playbook.handoff.request_confidence for lp in self.playbooks), default=0.6)
        asked = [i for i in intents if i.intent == HUMAN and i.confidence >= need]
        if not self.confident(asked) or not self.human_channel(channel):
            return False
        if ps.escalation is None:
            ps.escalation = {"reason": "requested", "intent": HUMAN, "since": now}
            ps.declined_at = None
        return True

    def release(self, ps: PolicyState, why: str, now: float) -> bool:
        """End an escalation: the handoff was closed (``closed``) or the customer declined
        (``declined``). Returns whether there was one."""
        if ps.escalation is None:
            return False
        ps.escalation = None
        ps.active, ps.last_change = None, now
        if why == "declined":
            ps.declined_at = now
        return True

    def resolve_moment(
        self,
        ps: PolicyState,
        explicit: str | None,
        path: str | None,
        channel: str | None,
        seen: list[IntentSeen],
    ) -> str | None:
        """An explicit moment wins; then a confident intent, a page path or the channel."""
        if explicit:
            ps.moment = explicit
            return explicit
        intents = self.confident(seen)
        if intents:
            for name, (_, m) in self.moments.items():
                if any(i in m.match.intents for i in intents):
                    return self._enter(ps, name)
        if path:
            if path not in self._path_moment:  # cached: the path set of a site is small
                if len(self._path_moment) > 50_000:
                    self._path_moment.clear()
                self._path_moment[path] = next(
                    (
                        name
                        for name, (_, m) in self.moments.items()
                        if any(fnmatch.fnmatchcase(path, pat) for pat in m.match.paths)
                    ),
                    None,
                )
            found = self._path_moment[path]
            if found is not None:
                return self._enter(ps, found)
        if ps.moment is None and channel:
            for name, (_, m) in self.moments.items():
                if channel in m.match.channels:
                    return self._enter(ps, name)
        return ps.moment

    @staticmethod
    def _enter(ps: PolicyState, name: str) -> str:
        if ps.moment != name:  # a new moment starts without the previous moment's adaptation
            ps.moment, ps.active = name, None
        return name

    def decide(
        self,
        ps: PolicyState,
        state: EmotionalState,
        session_id: str,
        arm: str,
        locale: str | None,
        now: float,
    ) -> Decision:
        entry = self.moments.get(ps.moment) if ps.moment else None
        probs = state.probs
        upset = state.top in UPSET and not state.uncertain
        if ps.escalation is not None:  # sticky: whatever the state, arm or later events
            return self._escalated(ps, state, session_id, arm, locale, now)
        if ps.standard_view or arm == "control" or entry is None or ps.all_off:
            reason = (
                "customer_choice"
                if ps.standard_view
                else "emotion_off"
                if ps.all_off
                else "control"
                if arm == "control"
                else "no_playbook"
            )
            offers = entry[1].standard_offers if entry else True
            return self._standard(
                ps,
                state,
                session_id,
                arm,
                now,
                reason,
                offers and not upset,
                entry[0] if entry else None,
                locale,
            )
        lp, moment = entry
        reason = "calm"
        # Leave the active adaptation once its state fell below exit (after the minimum dwell).
        if ps.active is not None:
            watch = next((w for w in moment.watch if w.state == ps.active), None)
            held = now - ps.active_since
            if watch is None or (probs[ps.active] < watch.exit and held >= moment.min_dwell_s):
                ps.active, ps.last_change, reason = None, now, "eased"
            else:
                return self._adapted(ps, lp, moment, watch, state, session_id, arm, locale, now)
        # Enter the strongest watched state above its threshold, if allowed now.
        candidates = [w for w in moment.watch if probs[w.state] >= w.enter]
        if candidates:
            if state.uncertain:
                reason = "uncertain"
            elif ps.last_change is not None and now - ps.last_change < moment.cooldown_s:
                reason = "cooldown"
            elif ps.interventions >= moment.max_interventions:
                reason = "cap"
            else:
                watch = max(candidates, key=lambda w: probs[w.state])
                ps.active, ps.active_since, ps.last_change = watch.state, now, now
                ps.interventions += 1
                return self._adapted(ps, lp, moment, watch, state, session_id, arm, locale, now)
        return self._standard(
            ps,
            state,
            session_id,
            arm,
            now,
            reason,
            moment.standard_offers and not upset,
            lp,
            locale,
        )

    def _adapted(
        self,
        ps: PolicyState,
        lp: LoadedPlaybook,
        moment: Moment,
        watch: Watch,
        state: EmotionalState,
        session_id: str,
        arm: str,
        locale: str | None,
        now: float,
    ) -> Decision:
        a = watch.adapt
        offers = a.offers and state.top not in UPSET
        escalate = a.escalate or a.mode == "escalate_to_human" or moment.human_in_loop
        for done in (a.mode, None if offers else "offers paused"):
            if done and done not in ps.tried:
                ps.tried.append(done)
        if escalate and ps.escalation is None:
            text = explain.explain_adaptation(
                watch.state, self.label(ps.moment), a.mode, state.moved_by, True, offers, locale
            )
            ps.escalation = {
                "reason": watch.state,
                "intent": None,
                "since": now,
                "text": text,
                "content": {k: resolve_content(lp, k, a.tone, locale) for k in a.content},
                "actions": list(a.actions),
            }
            return self._escalated(ps, state, session_id, arm, locale, now)
        same = self._same(ps, (ps.moment, a.mode, a.tone, offers, escalate), state, now)
        if same is not None:
            return same
        text = explain.explain_adaptation(
            watch.state, self.label(ps.moment), a.mode, state.moved_by, escalate, offers, locale
        )
        content = {k: resolve_content(lp, k, a.tone, locale) for k in a.content}
        return self._make(
            ps,
            session_id,
            now,
            a.mode,
            a.tone,
            offers,
            escalate,
            list(a.actions),
            content,
            text,
            lp.playbook.key,
            arm,
            state,
        )

    def _escalated(
        self,
        ps: PolicyState,
        state: EmotionalState,
        session_id: str,
        arm: str,
        locale: str | None,
        now: float,
    ) -> Decision:
        esc = ps.escalation
        assert esc is not None
        entry = self.moments.get(ps.moment) if ps.moment else None
        lp = entry[0] if entry else (self.playbooks[0] if self.playbooks else None)
        if "content" not in esc:  # a request: the playbook's handoff content, in the locale
            key = lp.playbook.handoff.content if lp else None
            esc["content"] = (
                {key: resolve_content(lp, key, "calming", locale)} if lp and key else {}
            )
            esc["text"] = explain.explain_request(  # no text consent: no transcript to see
                self.label(ps.moment) if ps.moment else None, locale, "text" not in ps.off
            )
            esc["actions"] = []
        esc["vulnerable"] = bool(entry and entry[1].vulnerable)
        same = self._same(ps, ("escalated", esc["reason"], esc["since"]), state, now)
        if same is not None:
            return same
        decision = self._make(
            ps,
            session_id,
            now,
            "escalate_to_human",
            "calming",
            False,
            True,
            list(esc["actions"]),
            dict(esc["content"]),
            str(esc["text"]),
            lp.playbook.key if lp else None,
            arm,
            state,
            str(esc["reason"]),
        )
        decision.escalation = {
            "reason": esc["reason"],
            "intent": esc["intent"],
            "since": esc["since"],
            "vulnerable": esc["vulnerable"],
            "tried": list(ps.tried),
        }
        return decision

    def _standard(
        self,
        ps: PolicyState,
        state: EmotionalState,
        session_id: str,
        arm: str,
        now: float,
        reason: str,
        offers: bool,
        lp: LoadedPlaybook | None,
        locale: str | None = None,
    ) -> Decision:
        same = self._same(ps, (ps.moment, "standard", None, offers, False, reason), state, now)
        if same is not None:
            return same
        text = explain.explain_standard(
            self.label(ps.moment) if ps.moment else None, reason, ps.off, locale
        )
        return self._make(
            ps,
            session_id,
            now,
            "standard",
            None,
            offers,
            False,
            [],
            {},
            text,
            lp.playbook.key if lp else None,
            arm,
            state,
            reason,
        )

    def _make(
        self,
        ps: PolicyState,
        session_id: str,
        now: float,
        mode: str,
        tone: str | None,
        offers: bool,
        escalate: bool,
        actions: list[str],
        content: dict[str, str],
        text: str,
        version: str | None,
        arm: str,
        state: EmotionalState,
        reason: str | None = None,
    ) -> Decision:
        before = ps.last
        ps.last = Decision(
            id=_new_id(),
            session_id=session_id,
            at=now,
            moment=ps.moment,
            mode=mode,
            tone=tone,
            offers_allowed=offers,
            escalate=escalate,
            actions=actions,
            content=content,
            explanation=text,
            playbook_version=version,
            arm=arm,
            state=state,
            changed=True,
            reasons=[reason] if reason else [],
        )
        # "changed" is about what the customer sees: a new reason for the same standard
        # journey (calm -> uncertain, say) is not a change.
        ps.last.changed = before is None or _visible(before) != _visible(ps.last)
        return ps.last

    @staticmethod
    def _same(
        ps: PolicyState, key: tuple[Any, ...], state: EmotionalState, now: float
    ) -> Decision | None:
        """The previous decision, refreshed, when nothing the customer sees would change."""
        if key == ps.last_key and ps.last is not None:
            ps.last.state, ps.last.changed = state, False
            return ps.last
        ps.last_key = key
        return None


def _visible(d: Decision) -> tuple[Any, ...]:
    return (
        d.moment,
        d.mode,
        d.tone,
        d.offers_allowed,
        d.escalate,
        tuple(d.actions),
        tuple(sorted(d.content.items())),
    )


def resolve_content(lp: LoadedPlaybook, key: str, tone: str | None, locale: str | None) -> str:
    """Variant text for key, by tone then locale, falling back to the playbook's default locale."""
    entry = lp.content.get(key, {})
    if tone and isinstance(entry.get(tone), dict):
        entry = entry[tone]
    lang = (locale or lp.playbook.default_locale).split("-")[0].lower()
    text = (
        entry.get(lang) or entry.get(lp.playbook.default_locale) or next(iter(entry.values()), key)
    )
    return str(text)
