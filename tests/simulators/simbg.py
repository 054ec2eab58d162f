"""A SIMBG-like simulator: the national building-approval system takes a PBG file and registers it.

`POST /pbg/registrasi` with the application (`nik`, `nama_pemohon`, `alamat_bangunan`,
`fungsi_bangunan`, `luas_bangunan`, ...) answers 201 `{"data": {"nomor_registrasi":
"SIMBG-3471-2026-000001", "status": "terdaftar"}}`; a missing field is a 422. The same
`Idempotency-Key` gets the same number again (the platform retries with one key).
`GET /pbg/{nomor}/status` answers `{"data": {"nomor_registrasi": ..., "status": ...}}` or 404;
`simbg.set_status(nomor, "pbg_terbit")` moves a file on. Faults (`stall`, `fail`, `malformed`) are
tests/simulators/base.py's. Run it alone with `python -m tests.simulators.simbg --port 8611` and
bind the system `simbg`. Everything in it is fictional.
"""

from __future__ import annotations

import re
from typing import Any

from tests.simulators.base import Answer, Received, Simulator, serve_from_command_line

REQUIRED = ("nik", "nama_pemohon", "alamat_bangunan", "fungsi_bangunan", "luas_bangunan")
STATUS_PATH = re.compile(r"^/pbg/([A-Za-z0-9-]+)/status$")


class Simbg(Simulator):
    """The server and the files it registered, by number."""

    name = "simbg"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.files: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}

    def set_status(self, number: str, status: str) -> None:
        """Move a registered file to another status (as SIMBG's own officers would)."""
        self.files[number]["status"] = status

    def answer(self, request: Received) -> Answer:
        """Register a file or report a file's status."""
        if request.method == "POST" and request.path == "/pbg/registrasi":
            return self._register(request)
        found = STATUS_PATH.match(request.path)
        if request.method == "GET" and found:
            file = self.files.get(found.group(1))
            if file is None:
                return Answer.json(404, {"error": "nomor registrasi tidak dikenal / unknown registration number"})
            return Answer.json(200, {"data": {"nomor_registrasi": found.group(1), "status": file["status"]}})
        return Answer.json(404, {"error": "not found"})

    def _register(self, request: Received) -> Answer:
        body = request.body if isinstance(request.body, dict) else {}
        missing = [name for name in REQUIRED if body.get(name) in (None, "")]
        if missing:
            return Answer.json(422, {"error": f"data wajib kosong / required data missing: {', '.join(missing)}"})
        key = request.headers.get("Idempotency-Key", "")
        with self.lock:
            number = self.by_key.get(key) if key else None
            if number is None:
                number = f"SIMBG-3471-2026-{len(self.files) + 1:06d}"
                self.files[number] = {"status": "terdaftar", "permohonan": body}
                if key:
                    self.by_key[key] = number
        return Answer.json(201, {"data": {"nomor_registrasi": number, "status": self.files[number]["status"]}})


def main() -> None:
    """Serve the simulator on a port until interrupted."""
    serve_from_command_line(Simbg, 8611, "SIMBG-like PBG registration simulator (fictional)")


if __name__ == "__main__":
    main()
