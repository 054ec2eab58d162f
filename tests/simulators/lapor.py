"""An SP4N-LAPOR!-like simulator: the national complaint system takes a complaint and gives a ticket.

`POST /laporan` with `{"judul": ..., "isi": ..., "instansi": ..., "pelapor": {...}, ...}` answers
201 `{"data": {"nomor_tiket": "LAPOR-2026-0000001", "status": "diterima"}}`; an empty `judul`, or an
`isi` shorter than 20 characters, is a 422 (LAPOR! asks for a clear complaint). The same
`Idempotency-Key` gets the same ticket again. Faults (`stall`, `fail`, `malformed`) are
tests/simulators/base.py's. Run it alone with `python -m tests.simulators.lapor --port 8613` and
bind the system `lapor`. Everything in it is fictional.
"""

from __future__ import annotations

from typing import Any

from tests.simulators.base import Answer, Received, Simulator, serve_from_command_line

MIN_TEXT = 20


class Lapor(Simulator):
    """The server and the complaints it took, by ticket number."""

    name = "lapor"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.reports: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}

    def answer(self, request: Received) -> Answer:
        """Take a complaint and answer its ticket, or refuse an unclear one."""
        if request.method != "POST" or request.path != "/laporan":
            return Answer.json(404, {"error": "not found"})
        body = request.body if isinstance(request.body, dict) else {}
        if not str(body.get("judul") or "").strip():
            return Answer.json(422, {"error": "judul laporan wajib diisi / a title is required"})
        if len(str(body.get("isi") or "").strip()) < MIN_TEXT:
            return Answer.json(422, {"error": f"isi laporan minimal {MIN_TEXT} karakter / the complaint needs at "
                                              f"least {MIN_TEXT} characters"})
        key = request.headers.get("Idempotency-Key", "")
        with self.lock:
            ticket = self.by_key.get(key) if key else None
            if ticket is None:
                ticket = f"LAPOR-2026-{len(self.reports) + 1:07d}"
                self.reports[ticket] = body
                if key:
                    self.by_key[key] = ticket
        return Answer.json(201, {"data": {"nomor_tiket": ticket, "status": "diterima"}})


def main() -> None:
    """Serve the simulator on a port until interrupted."""
    serve_from_command_line(Lapor, 8613, "SP4N-LAPOR!-like complaint simulator (fictional)")


if __name__ == "__main__":
    main()
