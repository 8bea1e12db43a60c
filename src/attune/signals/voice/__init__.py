"""Voice: prosody of the caller against their own baseline, and a speech-emotion model."""

from attune.signals.spec import ModalitySpec
from attune.signals.taxonomy import VOICE_TO_CX

SPEC = ModalitySpec(
    name="voice",
    event_kinds=("voice",),
    analyzer="attune.signals.voice.analyzer:VoiceAnalyzer",
    extra="voice",
    biometric=True,
    reliability=0.6,
    half_life_s=45.0,
    label_tables={"voice": VOICE_TO_CX},
    raw_kinds=("voice",),
    retention="audio_features_s",
    streams=True,
)
