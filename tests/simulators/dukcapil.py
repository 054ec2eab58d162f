"""A civil-registry (Dukcapil) simulator answering the platform's NIK-check contract over HTTP.

`POST /nik/verifikasi` with `{"nik": "...", "nama": "..."}` answers `{"cocok": true|false}`: true
when the NIK is registered and the name matches (case and spacing ignored). Everything in it is
fictional. `registry.slow(seconds)` delays every answer (a timeout), `registry.fail()` answers 503
until `registry.recover()`; `registry.received` keeps what came (path, headers, body). Run it alone
with `python -m tests.simulators.dukcapil --port 8601`; bind it as the system `dukcapil`.
"""

from __future__ import annotations

from tests.simulators.base import Answer, Received, Simulator, serve_from_command_line

# Fictional residents: NIKs whose region and birth date parts are made up.
RESIDENTS = {
    "3471010101900001": "Budi Santoso",
    "3471014502920002": "Siti Rahayu",
    "3404011203850003": "Agus Prasetyo",
}
TOKEN_HEADER = "Authorization"


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class Registry(Simulator):
    """The server, its residents, its failure switches and the requests it received."""

    name = "dukcapil"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.residents = dict(RESIDENTS)

    def answer(self, request: Received) -> Answer:
        """Return the status and JSON the contract gives for a request."""
        body = request.body
        if request.method != "POST" or request.path != "/nik/verifikasi":
            return Answer.json(404, {"error": "not found"})
        if not isinstance(body, dict) or not isinstance(body.get("nik"), str) or not isinstance(body.get("nama"), str):
            return Answer.json(400, {"error": "nik and nama are required"})
        name = self.residents.get(body["nik"])
        return Answer.json(200, {"cocok": name is not None and _same(name, body["nama"])})


def main() -> None:
    """Serve the simulator on a port until interrupted."""
    serve_from_command_line(Registry, 8601, "Dukcapil NIK-check simulator (fictional residents)")


if __name__ == "__main__":
    main()
