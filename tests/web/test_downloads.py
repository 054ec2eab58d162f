"""Download names: any file name survives the latin-1 header, and the plain fallback is safe ASCII."""

from __future__ import annotations

import pytest

from web.downloads import content_disposition


@pytest.mark.parametrize(("name", "expected"), [
    ("KTP saya.pdf", 'attachment; filename="KTP saya.pdf"'),
    ("文件.pdf", "attachment; filename=\"berkas.pdf\"; filename*=UTF-8''%E6%96%87%E4%BB%B6.pdf"),
    ("Surat ñandú.pdf", "attachment; filename=\"Surat nandu.pdf\"; filename*=UTF-8''Surat%20%C3%B1and%C3%BA.pdf"),
    ('a"b\r\nSet-Cookie: x=1.pdf',
     "attachment; filename=\"a_bSet-Cookie_ x_1.pdf\"; filename*=UTF-8''a%22bSet-Cookie%3A%20x%3D1.pdf"),
    ("../../etc/passwd", 'attachment; filename="passwd"'),
    ("C:\\Users\\budi\\ktp.pdf", 'attachment; filename="ktp.pdf"'),
    ("", 'attachment; filename="berkas"'),
])
def test_every_name_gives_a_header_that_encodes(name: str, expected: str) -> None:
    value = content_disposition(name)
    assert value == expected
    value.encode("latin-1")  # what Starlette does with a header: this raised for 文件.pdf
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert not set(fallback) & set('"\\/\r\n;:')


def test_inline_names_say_inline() -> None:
    assert content_disposition("foto.png", inline=True) == 'inline; filename="foto.png"'
