"""An OSS-like simulator: the national business-licensing system answers who holds an NIB.

`GET /nib/{nib}` answers `{"data": {"nib": ..., "nama_usaha": ..., "skala_usaha": "mikro" |
"kecil" | "menengah" | "besar", "kbli": [{"kode": ..., "judul": ...}], "status": "aktif" |
"tidak_aktif"}}`, or 404 for an NIB it does not know. Faults (`stall`, `fail`, `malformed`) are
tests/simulators/base.py's. Run it alone with `python -m tests.simulators.oss --port 8612` and bind
the system `oss`. The businesses are fictional.
"""

from __future__ import annotations

import re
from typing import Any

from tests.simulators.base import Answer, Received, Simulator, serve_from_command_line

BUSINESSES: dict[str, dict[str, Any]] = {
    "9120301234567": {"nama_usaha": "Bakpia Pathok Bu Sri", "skala_usaha": "mikro", "status": "aktif",
                      "kbli": [{"kode": "10710", "judul": "Industri Produk Roti dan Kue"}]},
    "9120307654321": {"nama_usaha": "Gudeg Yu Narni", "skala_usaha": "kecil", "status": "aktif",
                      "kbli": [{"kode": "56101", "judul": "Restoran"},
                               {"kode": "10792", "judul": "Industri Makanan Olahan Siap Saji"}]},
    "9120300000001": {"nama_usaha": "Wedang Uwuh Pak Harjo", "skala_usaha": "mikro", "status": "tidak_aktif",
                      "kbli": [{"kode": "11040", "judul": "Industri Minuman Ringan"}]},
}
NIB_PATH = re.compile(r"^/nib/([0-9]+)$")


class Oss(Simulator):
    """The server and the businesses it knows, by NIB."""

    name = "oss"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.businesses = {nib: dict(data) for nib, data in BUSINESSES.items()}

    def answer(self, request: Received) -> Answer:
        """Return the business holding an NIB, or 404."""
        found = NIB_PATH.match(request.path)
        if request.method != "GET" or not found:
            return Answer.json(404, {"error": "not found"})
        business = self.businesses.get(found.group(1))
        if business is None:
            return Answer.json(404, {"error": "NIB tidak terdaftar / NIB not registered"})
        return Answer.json(200, {"data": {"nib": found.group(1), **business}})


def main() -> None:
    """Serve the simulator on a port until interrupted."""
    serve_from_command_line(Oss, 8612, "OSS-like NIB lookup simulator (fictional businesses)")


if __name__ == "__main__":
    main()
