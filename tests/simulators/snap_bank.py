"""A local bank speaking SNAP's virtual-account and QRIS API: create-va, inquiry-va, qr-mpm-generate, and paying.

Tests start it on a free port; people run it by hand next to `make run`:

    python -m tests.simulators.snap_bank --port 8600 --secret "$MPP_BANK_CLIENT_SECRET" \
        --notify http://127.0.0.1:8000/api/payments/snap/v1.0/transfer-va/payment
    curl -X POST localhost:8600/sim/pay -d '{"virtualAccountNo": "888990000000001"}'
    curl -X POST localhost:8600/sim/pay-qris -d '{"partnerReferenceNo": "SKRD-2026-000001"}'

Paying sends the platform the signed SNAP payment notification; `mode` chooses a misbehaving
bank: `bad-signature`, `duplicate` (the same notification twice, same X-EXTERNAL-ID), `retry`
(the same payment again under a new X-EXTERNAL-ID), `stale` (an X-TIMESTAMP an hour old).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from engine.payments.snap import (
    CREATE_VA_PATH,
    INQUIRY_VA_PATH,
    QR_GENERATE_PATH,
    TOKEN_PATH,
    WIB,
    minify,
    sign,
    signature_ok,
    timestamp,
    token_signature,
)

Answer = tuple[int, dict[str, Any]]
VA_NOTIFY_SUFFIX = "/v1.0/transfer-va/payment"
QR_NOTIFY_SUFFIX = "/v1.0/qr/qr-mpm-notify"


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16(text: str) -> str:
    """Return the CRC-16/CCITT-FALSE of a QRIS text, as EMVCo's tag 63 writes it (4 hex digits)."""
    crc = 0xFFFF
    for byte in text.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def qris_content(*, merchant: str, bill_number: str, amount: int) -> str:
    """Return a dynamic QRIS (EMVCo MPM) text for one amount and one bill, with its CRC."""
    text = (_tlv("00", "01") + _tlv("01", "12")
            + _tlv("26", _tlv("00", "ID.CO.QRIS.WWW") + _tlv("01", "936000140000000001") + _tlv("02", merchant[:15]))
            + _tlv("52", "9399") + _tlv("53", "360") + _tlv("54", str(amount)) + _tlv("58", "ID")
            + _tlv("59", "MPP PEMBAYARAN") + _tlv("60", "YOGYAKARTA") + _tlv("62", _tlv("01", bill_number[:25]))
            + "6304")
    return text + crc16(text)


class SnapBankSimulator:
    """The bank: its accounts, its tokens, and the HTTP server that serves them."""

    def __init__(self, *, secret: str, client_id: str = "mpp-local", notify_url: str = "", port: int = 0,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.secret, self.client_id, self.notify_url = secret, client_id, notify_url
        self.clock = clock or (lambda: datetime.now(WIB))
        self.accounts: dict[str, dict[str, Any]] = {}
        self.qrs: dict[str, dict[str, Any]] = {}  # by partnerReferenceNo (the bill number)
        self.tokens: set[str] = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL the bank listens on."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> SnapBankSimulator:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="snap-bank")
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ the bank's API

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Answer one request to the bank's API."""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"responseCode": "4000001", "responseMessage": "Invalid Field Format"}
        if path == TOKEN_PATH:
            return self._token(headers)
        if path == "/sim/pay":
            answers = self.pay(str(body.get("virtualAccountNo", "")), amount=body.get("amount"),
                               mode=str(body.get("mode", "ok")))
            return 200, {"notifications": [{"status": s, "answer": a} for s, a in answers]}
        if path == "/sim/pay-qris":
            answers = self.pay_qris(str(body.get("partnerReferenceNo") or body.get("trxId") or ""),
                                    qr_content=str(body.get("qrContent", "")), amount=body.get("amount"),
                                    mode=str(body.get("mode", "ok")))
            return 200, {"notifications": [{"status": s, "answer": a} for s, a in answers]}
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token not in self.tokens or not signature_ok(self.secret, headers.get("x-signature", ""), "POST", path,
                                                        token, minify(body), headers.get("x-timestamp", "")):
            return 401, {"responseCode": "4010000", "responseMessage": "Unauthorized. Signature"}
        if path == CREATE_VA_PATH:
            return self._create(body)
        if path == QR_GENERATE_PATH:
            return self._generate_qr(body)
        if path == INQUIRY_VA_PATH:
            found = self.accounts.get(str(body.get("virtualAccountNo", "")).strip())
            if found is None:
                return 404, {"responseCode": "4043012", "responseMessage": "Invalid Bill/Virtual Account"}
            return 200, {"responseCode": "2003000", "responseMessage": "Successful", "virtualAccountData": found}
        return 404, {"responseCode": "4040000", "responseMessage": "Not Found"}

    def _token(self, headers: dict[str, str]) -> Answer:
        stamp = headers.get("x-timestamp", "")
        expected = token_signature(self.secret, self.client_id, stamp)
        if headers.get("x-client-key") != self.client_id or headers.get("x-signature") != expected:
            return 401, {"responseCode": "4017300", "responseMessage": "Unauthorized. Client"}
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {"responseCode": "2007300", "responseMessage": "Successful", "accessToken": token,
                     "tokenType": "Bearer", "expiresIn": "900"}

    def _create(self, body: dict[str, Any]) -> Answer:
        number = (str(body.get("partnerServiceId", "")) + str(body.get("customerNo", ""))).strip()
        if not number or not body.get("trxId") or not isinstance(body.get("totalAmount"), dict):
            return 400, {"responseCode": "4002702", "responseMessage": "Invalid Mandatory Field"}
        with self.lock:
            if number in self.accounts:
                return 409, {"responseCode": "4092700", "responseMessage": "Conflict"}
            self.accounts[number] = {**body, "virtualAccountNo": number, "paymentFlagStatus": "01"}
        return 200, {"responseCode": "2002700", "responseMessage": "Successful",
                     "virtualAccountData": self.accounts[number]}

    def _generate_qr(self, body: dict[str, Any]) -> Answer:
        reference, amount = str(body.get("partnerReferenceNo", "")), body.get("amount")
        if not reference or not isinstance(amount, dict) or not str(amount.get("value", "")).strip():
            return 400, {"responseCode": "4004702", "responseMessage": "Invalid Mandatory Field"}
        with self.lock:
            if reference in self.qrs:
                return 409, {"responseCode": "4094700", "responseMessage": "Conflict"}
            content = qris_content(merchant=str(body.get("merchantId", "")), bill_number=reference,
                                   amount=int(float(amount["value"])))
            self.qrs[reference] = {**body, "qrContent": content, "referenceNo": uuid.uuid4().hex, "paid": False}
        return 200, {"responseCode": "2004700", "responseMessage": "Successful", "referenceNo":
                     self.qrs[reference]["referenceNo"], "partnerReferenceNo": reference, "qrContent": content}

    # ------------------------------------------------------------------ paying a VA

    def notification(self, va_number: str, *, amount: int | None = None, mode: str = "ok",
                     request_id: str | None = None) -> tuple[str, dict[str, str], bytes]:
        """Return the signed payment notification for a VA: (path, headers, body)."""
        account = self.accounts[va_number]
        value = amount if amount is not None else int(float(account["totalAmount"]["value"]))
        now = self.clock() - (timedelta(hours=1) if mode == "stale" else timedelta(0))
        body = {"partnerServiceId": account.get("partnerServiceId"), "customerNo": account.get("customerNo"),
                "virtualAccountNo": va_number, "virtualAccountName": account.get("virtualAccountName"),
                "trxId": account.get("trxId"), "paymentRequestId": request_id or uuid.uuid4().hex,
                "paidAmount": {"value": f"{value}.00", "currency": "IDR"},
                "trxDateTime": timestamp(now), "channelCode": 6011}
        text, stamp, token = minify(body), timestamp(now), "bank-notify"
        path = urlsplit(self.notify_url).path or "/"
        signature = sign("wrong-" + self.secret if mode == "bad-signature" else self.secret, "POST", path, token,
                         text, stamp)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "X-TIMESTAMP": stamp,
                   "X-SIGNATURE": signature, "X-PARTNER-ID": self.client_id, "CHANNEL-ID": "95221",
                   "X-EXTERNAL-ID": uuid.uuid4().hex[:32]}
        return path, headers, text.encode()

    def pay(self, va_number: str, *, amount: int | None = None, mode: str = "ok") -> list[Answer]:
        """Pay a VA: send the platform its notification (twice in `duplicate` and `retry`); return the answers."""
        if va_number not in self.accounts:
            return [(404, {"responseCode": "4042512", "responseMessage": "Invalid Bill/Virtual Account"})]
        _path, headers, body = self.notification(va_number, amount=amount, mode=mode)
        answers = [self._send(headers, body)]
        if mode == "duplicate":
            answers.append(self._send(headers, body))
        if mode == "retry":
            request_id = json.loads(body)["paymentRequestId"]
            _path, headers, body = self.notification(va_number, amount=amount, request_id=request_id)
            answers.append(self._send(headers, body))
        if answers[-1][1].get("responseCode") == "2002500":
            self.accounts[va_number]["paymentFlagStatus"] = "00"
        return answers

    @property
    def qr_notify_url(self) -> str:
        """Return where QRIS payments are notified: the VA notification's address, QR path."""
        return self.notify_url.removesuffix(VA_NOTIFY_SUFFIX) + QR_NOTIFY_SUFFIX

    def qr_notification(self, reference: str, *, amount: int | None = None,
                        mode: str = "ok") -> tuple[str, dict[str, str], bytes]:
        """Return the signed QRIS payment notification (SNAP qr-mpm-notify) of a bill's QR: (path, headers, body)."""
        qr = self.qrs[reference]
        value = amount if amount is not None else int(float(qr["amount"]["value"]))
        now = self.clock() - (timedelta(hours=1) if mode == "stale" else timedelta(0))
        body = {"originalReferenceNo": qr["referenceNo"], "originalPartnerReferenceNo": reference,
                "latestTransactionStatus": "00", "transactionStatusDesc": "Success",
                "amount": {"value": f"{value}.00", "currency": "IDR"},
                "additionalInfo": {"paidTime": timestamp(now), "issuerName": "BANK SIMULATOR"}}
        text, stamp, token = minify(body), timestamp(now), "bank-notify"
        path = urlsplit(self.qr_notify_url).path or "/"
        signature = sign("wrong-" + self.secret if mode == "bad-signature" else self.secret, "POST", path, token,
                         text, stamp)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "X-TIMESTAMP": stamp,
                   "X-SIGNATURE": signature, "X-PARTNER-ID": self.client_id, "CHANNEL-ID": "95221",
                   "X-EXTERNAL-ID": uuid.uuid4().hex[:32]}
        return path, headers, text.encode()

    def pay_qris(self, reference: str, *, qr_content: str = "", amount: int | None = None,
                 mode: str = "ok") -> list[Answer]:
        """Pay a bill's QRIS (by bill number, or by the scanned QR text); return the platform's answers."""
        if not reference:
            reference = next((ref for ref, qr in self.qrs.items() if qr["qrContent"] == qr_content), "")
        if reference not in self.qrs:
            return [(404, {"responseCode": "4045212", "responseMessage": "Invalid QR"})]
        _path, headers, body = self.qr_notification(reference, amount=amount, mode=mode)
        answers = [self._send(headers, body, self.qr_notify_url)]
        if mode == "duplicate":
            answers.append(self._send(headers, body, self.qr_notify_url))
        if answers[-1][1].get("responseCode") == "2005200":
            self.qrs[reference]["paid"] = True
        return answers

    def _send(self, headers: dict[str, str], body: bytes, url: str | None = None) -> Answer:
        answer = httpx.post(url or self.notify_url, content=body, headers=headers, timeout=30)
        return answer.status_code, answer.json()


def _handler(bank: SnapBankSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = bank.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
            self._answer(status, body)

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            if self.path == "/sim/qris":
                self._answer(200, {"qris": list(bank.qrs.values())})
                return
            if self.path != "/sim/accounts":
                self._answer(404, {"responseCode": "4040000", "responseMessage": "Not Found"})
                return
            self._answer(200, {"accounts": list(bank.accounts.values())})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
            """Keep the test output quiet."""

    return Handler


def serve_with_platform(*, host: str, port: int, bank_port: int = 0) -> int:
    """Start the bank on a free port with a fresh secret, run `mpp serve` configured for it; stop both together."""
    secret = secrets.token_urlsafe(24)
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (compared, not bound)
    bank = SnapBankSimulator(secret=secret, notify_url=f"http://{local}:{port}/api/payments/snap{VA_NOTIFY_SUFFIX}",
                             port=bank_port)
    env = {**os.environ, "MPP_BANK_BASE_URL": bank.url, "MPP_BANK_CLIENT_SECRET": secret,
           "MPP_BANK_CLIENT_ID": bank.client_id, "MPP_BANK_QRIS": os.environ.get("MPP_BANK_QRIS", "1")}
    mpp = str(Path(sys.executable).with_name("mpp"))
    with bank:
        print(f"""SNAP bank simulator on {bank.url} (secret generated for this run; QRIS {env['MPP_BANK_QRIS']})
Pay a bill shown on the task or tracking page:
  curl -s -X POST {bank.url}/sim/pay -d '{{"virtualAccountNo": "<nomor VA>"}}'
  curl -s -X POST {bank.url}/sim/pay-qris -d '{{"partnerReferenceNo": "<nomor tagihan>"}}'
Open accounts: curl -s {bank.url}/sim/accounts""", flush=True)  # noqa: T201 (a CLI)
        child = subprocess.Popen([mpp, "serve", "--host", host, "--port", str(port)], env=env)  # noqa: S603
        signal.signal(signal.SIGTERM, _interrupted)  # stopped like Ctrl-C: the platform goes down with the bank
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.terminate()
            child.wait()
            return 0


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Run the bank until interrupted (or, with --with-platform, the bank and `mpp serve` together)."""
    parser = argparse.ArgumentParser(description="A local SNAP virtual-account and QRIS bank for MPP.")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--notify", default="http://127.0.0.1:8000/api/payments/snap/v1.0/transfer-va/payment")
    parser.add_argument("--secret", help="the shared client secret (MPP_BANK_CLIENT_SECRET)")
    parser.add_argument("--client-id", default="mpp-local")
    parser.add_argument("--with-platform", action="store_true",
                        help="start `mpp serve` beside the bank (free port, generated secret): `make run` does")
    parser.add_argument("--host", default="127.0.0.1", help="with --with-platform: the platform's host")
    parser.add_argument("--platform-port", type=int, default=8000, help="with --with-platform: the platform's port")
    args = parser.parse_args()
    if args.with_platform:
        sys.exit(serve_with_platform(host=args.host, port=args.platform_port))
    if not args.secret:
        parser.error("--secret is required (or --with-platform)")
    bank = SnapBankSimulator(secret=args.secret, client_id=args.client_id, notify_url=args.notify, port=args.port)
    print(f"SNAP bank simulator on {bank.url}; notifications go to {args.notify}")  # noqa: T201 (a CLI)
    try:
        bank.server.serve_forever()
    except KeyboardInterrupt:
        bank.server.server_close()


if __name__ == "__main__":
    main()
