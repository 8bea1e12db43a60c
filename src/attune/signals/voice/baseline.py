"""A caller's running baseline, so that a naturally loud, high or fast voice is not read as upset.

Two things are tracked per caller (per session, in the analyzer's scratch space):

* the mean feature vector, used to normalise the model input the way training normalised each
  speaker (features minus that speaker's mean). Until a few windows are in, the caller's mean is
  shrunk towards the population mean shipped with the model;
* the prosody summary (pitch, loudness, rate, pauses), used for the plain-words evidence.

Cumulative mean for the first ``warm`` windows, then a slow exponential average, so the baseline
follows a caller over a long call without being dragged by one heated minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from attune.signals.voice.features import Prosody

TRACKED = ("f0_median_hz", "loudness_db", "rate_syl_s", "pause_ratio", "f0_range_st")


@dataclass
class Baseline:
    shrink: float = 4.0  # pseudo-count of the population mean
    warm: int = 20
    alpha: float = 0.03
    n: int = 0
    mean: np.ndarray | None = None
    prosody: dict[str, float] = field(default_factory=dict)
    prosody_n: dict[str, int] = field(default_factory=dict)

    def reference(self, population: np.ndarray) -> np.ndarray:
        """The mean to subtract from this caller's feature vector now."""
        if self.mean is None or self.n == 0:
            return population
        w = self.n / (self.n + self.shrink)
        return np.asarray(w * self.mean + (1.0 - w) * population, np.float32)

    def update(self, vec: np.ndarray, pros: Prosody) -> None:
        self.n += 1
        rate = 1.0 / self.n if self.n <= self.warm else self.alpha
        self.mean = vec.copy() if self.mean is None else self.mean + rate * (vec - self.mean)
        for key in TRACKED:
            value = float(getattr(pros, key))
            if key == "f0_median_hz" and value <= 0:
                continue  # no voiced frame: says nothing about the caller's pitch
            k = self.prosody_n.get(key, 0) + 1
            self.prosody_n[key] = k
            r = 1.0 / k if k <= self.warm else self.alpha
            old = self.prosody.get(key, value)
            self.prosody[key] = old + r * (value - old)

    @property
    def ready(self) -> bool:
        """Enough windows to compare against (three windows, i.e. a few seconds of speech)."""
        return self.n >= 3

    def deviations(self, pros: Prosody) -> dict[str, float]:
        """Change from the baseline: pitch and rate in %, loudness in dB, pauses in points."""
        if not self.ready:
            return {}
        out: dict[str, float] = {}
        b = self.prosody
        if pros.f0_median_hz > 0 and b.get("f0_median_hz", 0) > 0:
            out["pitch_pct"] = 100.0 * (pros.f0_median_hz / b["f0_median_hz"] - 1.0)
        if b.get("rate_syl_s", 0) > 0.5:
            out["rate_pct"] = 100.0 * (pros.rate_syl_s / b["rate_syl_s"] - 1.0)
        if "loudness_db" in b:
            out["loudness_db"] = pros.loudness_db - b["loudness_db"]
        if "pause_ratio" in b:
            out["pause_pts"] = 100.0 * (pros.pause_ratio - b["pause_ratio"])
        if b.get("f0_range_st", 0) > 0.5:
            out["range_pct"] = 100.0 * (pros.f0_range_st / b["f0_range_st"] - 1.0)
        return out


def describe(dev: dict[str, float], pros: Prosody) -> str:
    """Plain words: "pitch 35 % above this caller's baseline, speaking rate +20 %, …"."""
    parts: list[str] = []
    if not dev:
        parts.append("baseline still forming")
    p = dev.get("pitch_pct")
    if p is not None and abs(p) >= 8:
        parts.append(f"pitch {abs(p):.0f} % {'above' if p > 0 else 'below'} this caller's baseline")
    loud = dev.get("loudness_db")
    if loud is not None and abs(loud) >= 3:
        parts.append(f"{abs(loud):.0f} dB {'louder' if loud > 0 else 'quieter'}")
    r = dev.get("rate_pct")
    if r is not None and abs(r) >= 10:
        parts.append(f"speaking rate {r:+.0f} %")
    rng = dev.get("range_pct")
    if rng is not None and abs(rng) >= 25:
        parts.append(f"pitch range {'wider' if rng > 0 else 'narrower'} ({rng:+.0f} %)")
    if pros.long_pauses:
        n = pros.long_pauses
        parts.append(f"{'one long pause' if n == 1 else f'{n} long pauses'}")
    if len(parts) == (0 if dev else 1):
        parts.append("close to this caller's usual voice" if dev else "")
    return ", ".join(p for p in parts if p)
