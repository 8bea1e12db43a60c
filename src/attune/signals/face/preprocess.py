"""Turn a detected face box into the model's input: a 48×48 grey crop framed like FER-2013."""

from __future__ import annotations

import numpy as np

# FER-2013 faces fill their 48×48 frame a little more loosely than a Haar box: widen it.
MARGIN = 0.12


def to_gray(image: np.ndarray) -> np.ndarray:
    import cv2

    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected a BGR, BGRA or grey image, got shape {image.shape}")


def crop_face(
    gray: np.ndarray, box: tuple[int, int, int, int], size: int = 48, margin: float = MARGIN
) -> np.ndarray:
    """Square crop around ``box`` (x, y, w, h) with a margin, edge-padded, resized to ``size``."""
    import cv2

    x, y, w, h = box
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    x1, y1 = x0 + round(side), y0 + round(side)
    pad = max(0, -x0, -y0, x1 - gray.shape[1], y1 - gray.shape[0])
    src = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else gray
    crop = src[y0 + pad : y1 + pad, x0 + pad : x1 + pad]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
