"""decode_frame: valid JPEG/PNG decode in memory; everything else is refused with a reason."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from attune.signals.face.decode import FrameRejected, decode_frame, image_size


def _encode(ext: str, h: int = 60, w: int = 80) -> bytes:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 2] = np.arange(w, dtype=np.uint8)[None, :]
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's calling card)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\x00" * 16
    )


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_decodes_jpeg_and_png_to_bgr(ext: str) -> None:
    image = decode_frame(_encode(ext))
    assert image.shape == (60, 80, 3) and image.dtype == np.uint8
    # The red channel ramps left to right: BGR order is kept.
    assert image[:, -1, 2].mean() > image[:, 0, 2].mean() + 50


def test_header_size_is_read_without_decoding() -> None:
    assert image_size(_encode(".jpg", 33, 47)) == ("jpeg", 47, 33)
    assert image_size(_encode(".png", 33, 47)) == ("png", 47, 33)


def test_refuses_oversized_image_from_its_header() -> None:
    with pytest.raises(FrameRejected, match="limit is") as info:
        decode_frame(_png_claiming(100_000, 100_000))
    assert info.value.status == 413
    with pytest.raises(ValueError, match="pixels"):
        decode_frame(_encode(".png"), max_pixels=100)


def test_refuses_too_many_bytes() -> None:
    with pytest.raises(FrameRejected, match="bytes") as info:
        decode_frame(_encode(".jpg"), max_bytes=100)
    assert info.value.status == 413


@pytest.mark.parametrize(
    ("payload", "reason", "status"),
    [
        (b"", "empty", 400),
        (b"GIF89a" + b"\x00" * 100, "not a JPEG or PNG", 415),
        (b'{"json": true}', "not a JPEG or PNG", 415),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 10, "corrupt JPEG", 400),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "corrupt PNG", 400),
    ],
)
def test_refuses_non_images_and_corrupt_headers(payload: bytes, reason: str, status: int) -> None:
    with pytest.raises(FrameRejected, match=reason) as info:
        decode_frame(payload)
    assert info.value.status == status


def test_refuses_truncated_image_body() -> None:
    data = _encode(".png", 200, 200)
    with pytest.raises(ValueError, match="corrupt png"):
        decode_frame(data[: len(data) // 3])


def test_refuses_non_bytes() -> None:
    with pytest.raises(ValueError, match="bytes"):
        decode_frame("not bytes")  # type: ignore[arg-type]
