"""Frame handling for the face analyzer: decoding uploads, face detection and tracking, crop
quality checks and preprocessing. Only OpenCV and numpy; nothing is written anywhere, no identity
and no embedding is computed — a face box is all that is kept between frames."""

from attune.signals.face.decode import MAX_BYTES, MAX_PIXELS, FrameRejected, decode_frame
from attune.signals.face.detect import FaceBox, FaceDetector
from attune.signals.face.preprocess import crop_face
from attune.signals.face.quality import Quality, assess

__all__ = [
    "MAX_BYTES",
    "MAX_PIXELS",
    "FaceBox",
    "FaceDetector",
    "FrameRejected",
    "Quality",
    "assess",
    "crop_face",
    "decode_frame",
]
