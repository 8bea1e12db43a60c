"""Behaviour: clicks, navigation, dwell and forms read by streaming detectors."""

from attune.signals.spec import ModalitySpec
from attune.signals.taxonomy import BEHAVIOUR_TO_CX

SPEC = ModalitySpec(
    name="behaviour",
    event_kinds=("behaviour",),
    analyzer="attune.signals.behaviour.analyzer:BehaviourAnalyzer",
    legal_basis="legitimate_interest",
    reliability=0.8,
    half_life_s=90.0,
    label_tables={"detectors": BEHAVIOUR_TO_CX},
    raw_kinds=("behaviour", "identify"),
    retention="raw_events_s",
)
