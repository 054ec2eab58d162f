"""A bill's QRIS as an image: the bank's QR content drawn as SVG (segno), for the portal to show."""

from __future__ import annotations

import io

import segno


def qris_svg(content: str) -> bytes:
    """Return the QR code of a QRIS content as an SVG document."""
    buffer = io.BytesIO()
    segno.make(content, error="m").save(buffer, kind="svg", scale=5, border=2, title="QRIS")
    return buffer.getvalue()
