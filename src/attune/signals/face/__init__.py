"""Face: expression probabilities from consented video frames; no identity, no image kept."""

from attune.signals.spec import ModalitySpec
from attune.signals.taxonomy import FER_TO_CX

SPEC = ModalitySpec(
    name="face",
    event_kinds=("frame",),
    analyzer="attune.signals.face.analyzer:FaceAnalyzer",
    extra="face",
    biometric=True,
    reliability=0.5,
    half_life_s=20.0,
    label_tables={"fer": FER_TO_CX},
    raw_kinds=("frame",),
    retention="raw_events_s",
    streams=True,
)
