"""Decode an uploaded JPEG/PNG frame in memory, refusing what should not be decoded.

The image size is read from the header *before* decoding, so a small file that claims a huge
image (a decompression bomb) is refused without allocating it. Nothing touches the disk.
"""

from __future__ import annotations

import struct

import numpy as np

MAX_BYTES = 8 * 1024 * 1024  # an upload larger than this is refused unread
MAX_PIXELS = 1920 * 1080 * 2  # about 4 MP: more than any webcam frame we need

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, ...) carry height and width.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class FrameRejected(ValueError):
    """A frame that will not be decoded; ``status`` is the HTTP status an API should answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise FrameRejected("corrupt JPEG: bad marker structure")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            raise FrameRejected("corrupt JPEG: bad segment length")
        if marker in _SOF:
            if i + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise FrameRejected("corrupt JPEG: no frame header found")


def image_size(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from the header alone; ValueError for anything else."""
    if data.startswith(_PNG):
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise FrameRejected("corrupt PNG: missing IHDR header")
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(_JPEG):
        width, height = _jpeg_size(data)
        return "jpeg", width, height
    raise FrameRejected("not a JPEG or PNG image", 415)


def decode_frame(
    data: bytes, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES
) -> np.ndarray:
    """JPEG/PNG bytes -> BGR uint8 array (H, W, 3).

    Raises ``FrameRejected`` (a ValueError) with a reason a client can act on and an HTTP
    status: 413 too large (bytes or pixels), 415 not a JPEG/PNG, 400 empty or corrupt.
    The bytes are never logged or written.
    """
    import cv2

    if not isinstance(data, bytes | bytearray | memoryview):
        raise FrameRejected("frame must be bytes")
    if len(data) == 0:
        raise FrameRejected("empty frame")
    if len(data) > max_bytes:
        raise FrameRejected(f"frame is {len(data)} bytes; the limit is {max_bytes}", 413)
    fmt, width, height = image_size(bytes(data[:65536]))
    if width <= 0 or height <= 0:
        raise FrameRejected(f"{fmt} header gives an empty image ({width}×{height})")
    if width * height > max_pixels:
        raise FrameRejected(
            f"image is {width}×{height} pixels; the limit is {max_pixels} pixels", 413
        )
    buf = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise FrameRejected(f"corrupt {fmt} image: it could not be decoded")
    if image.shape[:2] != (height, width):
        raise FrameRejected(f"corrupt {fmt} image: decoded size does not match its header")
    return image
