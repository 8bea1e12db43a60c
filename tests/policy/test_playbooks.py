"""Playbook validation (errors name file, field and line), every red line, and the rules at
run time: hysteresis, minimum dwell, cooldown, cap, standard view, uncertainty, offers."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune.policy.loader import PlaybookError, load_dir, load_playbook
from attune.policy.rules import IntentSeen, Policy, PolicyState
from attune.signals.taxonomy import CX_STATES
from attune.state.fusion import EmotionalState

GOOD = """\
playbook: test
version: "1"
author: a@example.com
content_file: test.content.yaml
moments:
  checkout:
    match: {paths: ["/checkout*"], intents: [cancel_not_here]}
    min_dwell_s: 10
    cooldown_s: 30
    max_interventions: 2
    watch:
      - state: confused
        enter: 0.5
        exit: 0.3
        adapt:
          mode: simplified
          tone: calming
          content: [summary]
          actions: [show_summary]
"""
CONTENT = """\
summary:
  calming:
    en: "Your order at a glance."
    de: "Ihre Bestellung auf einen Blick."
"""


def write(tmp_path: Path, text: str, content: str = CONTENT) -> Path:
    (tmp_path / "test.content.yaml").write_text(content)
    path = tmp_path / "test.yaml"
    path.write_text(text)
    return path


def test_shipped_example_playbook_loads_with_all_four_moments() -> None:
    (lp,) = load_dir()
    assert {"onboarding", "checkout", "support", "cancellation"} <= set(lp.playbook.moments)
    assert all(len(m.watch) <= 3 for m in lp.playbook.moments.values())


def test_error_names_file_field_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("enter: 0.5", "enter: 1.5"))
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "moments.checkout.watch[0].enter (line 13)" in msg


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("exit: 0.3", "exit: 0.6"), "must be below enter"),
        (("state: confused", "state: bored"), "unknown watched state"),
        (("mode: simplified", "mode: hypnotic"), "watch[0].adapt.mode (line 16)"),
        (('version: "1"\n', ""), "version (line 1)"),
        (("content: [summary]", "content: [nope]"), "content keys without texts: nope"),
    ],
)
def test_schema_errors(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    with pytest.raises(
        PlaybookError,
        match=expected.replace("[", r"\[")
        .replace("(", r"\(")
        .replace(")", r"\)")
        .replace(".", r"\."),
    ):
        load_playbook(write(tmp_path, GOOD.replace(*change)))


def test_at_most_three_watched_states(tmp_path: Path) -> None:
    extra = "".join(
        f"      - state: {s}\n        enter: 0.5\n        exit: 0.3\n"
        f"        adapt: {{mode: slow}}\n"
        for s in ("anxious", "disappointed", "frustrated")
    )
    with pytest.raises(PlaybookError, match="at most 3"):
        load_playbook(write(tmp_path, GOOD + extra))


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (
            ("actions: [show_summary]", "actions: [show_summary]\n          price_change: '+5%'"),
            "R1 no price, credit or eligibility",
        ),
        (("actions: [show_summary]", "actions: [raise_credit_limit]"), "R1"),
        (
            (
                "actions: [show_summary]",
                "actions: [show_summary]\n          eligibility_change: deny",
            ),
            "R1",
        ),
        (("mode: simplified", "mode: simplified\n          offers: true"), "R2 no offers"),
        (("state: confused", "state: anxious"), None),  # a calm view for anxiety is fine
        (("author: a@example.com", "author: a@example.com\naudience: employees"), "R3 no use on"),
        (
            ("    max_interventions: 2", "    max_interventions: 2\n    vulnerable: true"),
            "R4 vulnerable contexts need a human",
        ),
    ],
)
def test_red_lines_refuse_with_the_rule(
    tmp_path: Path, change: tuple[str, str], rule: str | None
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    if rule is None:
        load_playbook(path)
        return
    with pytest.raises(PlaybookError, match=rule):
        load_playbook(path)


def test_offers_refused_while_anxious(tmp_path: Path) -> None:
    anxious = GOOD.replace("state: confused", "state: anxious")
    with pytest.raises(PlaybookError, match="R2 no offers while frustrated, anxious or confused"):
        load_playbook(
            write(
                tmp_path,
                anxious.replace("mode: simplified", "mode: simplified\n          offers: true"),
            )
        )


def test_upsell_and_relief_offer_refused_while_frustrated(tmp_path: Path) -> None:
    frustrated = GOOD.replace("state: confused", "state: frustrated")
    with pytest.raises(PlaybookError, match=r"R2.*show_upsell_banner"):
        load_playbook(write(tmp_path, frustrated.replace("[show_summary]", "[show_upsell_banner]")))
    with pytest.raises(PlaybookError, match=r"R2.*relief_offer"):
        load_playbook(write(tmp_path, frustrated.replace("mode: simplified", "mode: relief_offer")))
    # Hiding the cross-sell is the opposite of selling, and is allowed.
    load_playbook(write(tmp_path, frustrated.replace("[show_summary]", "[hide_cross_sell]")))


# -- red lines run on the catalogue's effect classes, not on names (issue 18) ----------------


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        # a price action whose name has no price word in it
        (("[show_summary]", "[raise_cost_tier]"), r"R1 .*raise_cost_tier.*\(price\)"),
        (("[show_summary]", "[lower_cost_tier]"), r"R1 .*lower_cost_tier"),
        (("[show_summary]", "[require_extra_checks]"), r"R1 .*\(eligibility\)"),
    ],
)
def test_price_and_eligibility_actions_refused_by_class(
    tmp_path: Path, change: tuple[str, str], rule: str
) -> None:
    with pytest.raises(PlaybookError, match=rule):
        load_playbook(write(tmp_path, GOOD.replace(*change)))


@pytest.mark.parametrize("state", ["frustrated", "anxious", "confused"])
@pytest.mark.parametrize(
    "selling",
    [
        "actions: [recommend_addons]",
        "actions: [show_upsell_banner]",
        "actions: [suggest_upgrade]",
        "actions: [show_summary]\n          offers: true",
        "actions: [show_pause_option]",
    ],
)
def test_no_selling_while_frustrated_anxious_or_confused(
    tmp_path: Path, state: str, selling: str
) -> None:
    text = GOOD.replace("state: confused", f"state: {state}").replace(
        "actions: [show_summary]", selling
    )
    with pytest.raises(PlaybookError, match=rf"R2 no offers while .*while the customer is {state}"):
        load_playbook(write(tmp_path, text))


def test_selling_when_disappointed_is_the_playbooks_call(tmp_path: Path) -> None:
    text = GOOD.replace("state: confused", "state: disappointed")
    load_playbook(write(tmp_path, text.replace("[show_summary]", "[recommend_addons]")))
    load_playbook(write(tmp_path, text.replace("mode: simplified", "mode: relief_offer")))


def test_unknown_action_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as err:
        load_playbook(write(tmp_path, GOOD.replace("[show_summary]", "[show_sumary]")))
    msg = str(err.value)
    assert "watch[0].adapt.actions (line 19)" in msg
    assert "unknown action 'show_sumary'" in msg and "catalogue" in msg
    assert "did you mean show_summary" in msg
    # an unlisted selling action cannot slip in under a new name either
    with pytest.raises(PlaybookError, match="unknown action 'offer_premium_plan'"):
        load_playbook(write(tmp_path, GOOD.replace("[show_summary]", "[offer_premium_plan]")))


@pytest.mark.parametrize(
    "path",
    ["/callcenter/*", "/Call-Center/queue*", "/contact-centre/*", "/agent-view/*", "/crm*"],
)
def test_staff_paths_are_refused(tmp_path: Path, path: str) -> None:
    text = GOOD.replace('paths: ["/checkout*"]', f'paths: ["/checkout*", "{path}"]')
    with pytest.raises(PlaybookError, match=r"match \(line \d+\): red line R3 no use on employees"):
        load_playbook(write(tmp_path, text))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("    min_dwell_s: 10", "    audience: agents\n    min_dwell_s: 10"), "R3 no use on"),
        (("    min_dwell_s: 10", "    audience: staff\n    min_dwell_s: 10"), "R3 no use on"),
        (("intents: [cancel_not_here]", "channels: [call_center]"), "R3 no use on"),
        (("intents: [cancel_not_here]", "channels: [agent_desktop]"), "R3 no use on"),
        (("intents: [cancel_not_here]", "channels: [fax]"), "unknown channel 'fax'"),
        (("author: a@example.com", "author: a@example.com\naudience: employees"), "R3 no use"),
    ],
)
def test_audience_and_channel_declarations(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    with pytest.raises(PlaybookError, match=expected):
        load_playbook(write(tmp_path, GOOD.replace(*change)))


def test_customer_channels_and_audience_load(tmp_path: Path) -> None:
    text = GOOD.replace("intents: [cancel_not_here]", "channels: [web, chat]").replace(
        "    min_dwell_s: 10", "    audience: customers\n    min_dwell_s: 10"
    )
    lp = load_playbook(write(tmp_path, text))
    assert lp.playbook.moments["checkout"].match.channels == ["web", "chat"]


def test_every_shipped_action_and_mode_has_an_effect_class() -> None:
    from attune.policy.catalogue import ACTIONS, MODES, Effect
    from attune.policy.schema import Mode

    assert set(MODES) == set(Mode.__args__)  # type: ignore[attr-defined]
    (lp,) = load_dir()
    used = {a for m in lp.playbook.moments.values() for w in m.watch for a in w.adapt.actions}
    assert used <= set(ACTIONS)
    assert all(isinstance(a.effect, Effect) for a in ACTIONS.values())


# -- rules at run time -------------------------------------------------------------------


def state(confused: float, uncertain: bool = False, top: str | None = None) -> EmotionalState:
    rest = (1 - confused) / (len(CX_STATES) - 1)
    probs = {s: (confused if s == "confused" else rest) for s in CX_STATES}
    best = top or max(probs, key=probs.__getitem__)
    return EmotionalState(
        probs,
        best,
        confused,
        0.8,
        uncertain,
        "thin" if uncertain else None,
        [
            {
                "modality": "behaviour",
                "name": "rage_click",
                "evidence": "3 clicks in 0.6 s on #pay",
                "weight": 0.5,
                "at": 0,
            }
        ],
        0,
    )


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return Policy([load_playbook(write(tmp_path, GOOD))])


def decide(policy: Policy, ps: PolicyState, p: float, now: float, **kw: object) -> str:
    return policy.decide(ps, state(p, **kw), "s", "adaptive", "de-DE", now).mode  # type: ignore[arg-type]


def test_hysteresis_and_minimum_dwell(policy: Policy) -> None:
    ps = PolicyState()
    policy.resolve_moment(ps, None, "/checkout/pay", None, [])
    assert decide(policy, ps, 0.4, 0) == "standard"
    assert decide(policy, ps, 0.55, 1) == "simplified"
    assert decide(policy, ps, 0.4, 20) == "simplified"  # between exit and enter: stays
    assert decide(policy, ps, 0.2, 5) == "simplified"  # below exit but dwell not reached
    assert decide(policy, ps, 0.2, 25) == "standard"  # below exit after the dwell: leaves


def test_cooldown_and_cap(policy: Policy) -> None:
    ps = PolicyState(moment="checkout")
    assert decide(policy, ps, 0.6, 0) == "simplified"
    assert decide(policy, ps, 0.1, 15) == "standard"
    assert decide(policy, ps, 0.6, 20) == "standard"  # cooldown (30 s after the change)
    assert decide(policy, ps, 0.6, 50) == "simplified"
    assert decide(policy, ps, 0.1, 65) == "standard"
    assert decide(policy, ps, 0.9, 200) == "standard"  # cap of 2 reached
    assert ps.interventions == 2


def test_uncertain_state_never_starts_an_adaptation(policy: Policy) -> None:
    ps = PolicyState(moment="checkout")
    d = policy.decide(ps, state(0.9, uncertain=True), "s", "adaptive", None, 0)
    assert d.mode == "standard" and "too thin or mixed" in d.explanation


def test_standard_view_sticks_and_control_arm_stays_standard(policy: Policy) -> None:
    ps = PolicyState(moment="checkout", standard_view=True)
    assert decide(policy, ps, 0.9, 0) == "standard"
    control = policy.decide(PolicyState(moment="checkout"), state(0.9), "s", "control", None, 0)
    assert control.mode == "standard" and control.arm == "control"


def test_decision_carries_resolved_content_and_an_explanation(policy: Policy) -> None:
    ps = PolicyState(moment="checkout")
    d = policy.decide(ps, state(0.7), "s", "adaptive", "de-DE", 0)
    assert d.content == {"summary": "Ihre Bestellung auf einen Blick."}
    # the explanation is in the customer's locale too (issue 16)
    assert d.explanation.startswith(
        "Hinweise (wie Sie die Seite nutzen) deuten auf Verwirrung, daher zeigt "
        "„checkout“ jetzt die vereinfachte Ansicht"
    )
    assert 2 <= d.explanation.count(".") <= 5
    english = policy.decide(PolicyState(moment="checkout"), state(0.7), "s", "adaptive", "en", 0)
    assert english.explanation.startswith(
        "3 clicks in 0.6 s on #pay suggest confusion, so the "
        "checkout switched to the simplified view"
    )
    assert d.playbook_version == "test@1" and d.changed
    again = policy.decide(ps, state(0.72), "s", "adaptive", "de-DE", 1)
    assert again.id == d.id and not again.changed


@pytest.mark.parametrize("top", ["frustrated", "anxious", "confused"])
def test_offers_are_off_while_upset_whatever_the_playbook_says(policy: Policy, top: str) -> None:
    ps = PolicyState(moment="checkout")
    upset = state(0.1, top=top)
    assert policy.decide(ps, upset, "s", "adaptive", None, 0).offers_allowed is False


def test_moment_from_intent_path_and_explicit(policy: Policy) -> None:
    ps = PolicyState()
    assert policy.resolve_moment(ps, None, "/checkout/x", None, []) == "checkout"
    assert policy.resolve_moment(ps, "support", None, None, []) == "support"
    fresh = PolicyState()
    seen = [IntentSeen("cancel_not_here", 0.9, None)]
    assert policy.resolve_moment(fresh, None, None, None, seen) == "checkout"
