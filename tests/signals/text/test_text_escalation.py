"""The escalation rule on heat per customer turn."""

from __future__ import annotations

from attune.signals.text.reading import escalates


def test_hot_turns_may_differ_a_little_but_cooling_is_not_escalation() -> None:
    assert escalates([0.07, 0.83, 0.69])  # annoyed, then angry: both hot
    assert escalates([0.1, 0.3, 0.6])
    assert not escalates([0.07, 0.9, 0.5])  # cooled off
    assert not escalates([0.1, 0.2, 0.3])  # not hot enough
    assert not escalates([0.5, 0.6, 0.7])  # already hot: no rise of 0.25
    assert not escalates([0.1, 0.9])  # fewer than three customer turns
