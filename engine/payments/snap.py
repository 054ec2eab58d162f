"""A bank's virtual accounts in the shape of Bank Indonesia's SNAP open API: signatures and the VA calls.

Both directions sign a request with the symmetric SNAP signature: HMAC-SHA512, keyed with the
client secret, over `METHOD:PATH:ACCESS_TOKEN:lowercase(hex(SHA-256(minified body))):X-TIMESTAMP`.
The B2B access token is simplified to a client-credentials token (docs/payments.md "Simplifications").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import httpx

from engine.errors import DomainError
from engine.settings import Settings

WIB = timezone(timedelta(hours=7), "WIB")
TOKEN_PATH = "/v1.0/access-token/b2b"  # noqa: S105 (a path, not a password)
CREATE_VA_PATH = "/v1.0/transfer-va/create-va"
INQUIRY_VA_PATH = "/v1.0/transfer-va/inquiry-va"
QR_GENERATE_PATH = "/v1.0/qr/qr-mpm-generate"


class BankUnavailable(DomainError):
    """The bank did not answer, or refused a call; the bill was not created."""

    code = "busy"


def minify(body: Any) -> str:
    """Return a JSON value minified the way both sides hash it (no whitespace, keys in their order)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def timestamp(moment: datetime) -> str:
    """Return SNAP's X-TIMESTAMP for a moment: ISO 8601 in Jakarta time, seconds, with offset."""
    return moment.astimezone(WIB).isoformat(timespec="seconds")


def string_to_sign(method: str, path: str, token: str, body: str, stamp: str) -> str:
    """Return the SNAP symmetric string to sign for a request."""
    digest = hashlib.sha256(body.encode()).hexdigest().lower()
    return f"{method.upper()}:{path}:{token}:{digest}:{stamp}"


def sign(secret: str, method: str, path: str, token: str, body: str, stamp: str) -> str:
    """Return the X-SIGNATURE of a request: hex HMAC-SHA512 of its string to sign."""
    text = string_to_sign(method, path, token, body, stamp)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha512).hexdigest()


def token_signature(secret: str, client_id: str, stamp: str) -> str:
    """Return the signature of a token request (HMAC-SHA512 of `client_id|X-TIMESTAMP`; SNAP uses RSA here)."""
    return hmac.new(secret.encode(), f"{client_id}|{stamp}".encode(), hashlib.sha512).hexdigest()


def signature_ok(secret: str, given: str, method: str, path: str, token: str, body: str, stamp: str) -> bool:
    """Tell whether a request's X-SIGNATURE is right, in constant time."""
    return hmac.compare_digest(given.lower(), sign(secret, method, path, token, body, stamp))


@dataclass(frozen=True)
class VaRequest:
    """What the platform asks a bank for: a VA for one bill."""

    bill_number: str
    customer_no: str
    name: str
    amount: int
    due_at: datetime


@dataclass(frozen=True)
class VaCreated:
    """What the bank answered: the VA number the applicant pays to."""

    va_number: str
    reference: str


@dataclass(frozen=True)
class QrRequest:
    """What the platform asks a bank for: a dynamic QRIS (MPM) for one bill."""

    bill_number: str
    amount: int
    due_at: datetime


@dataclass(frozen=True)
class QrCreated:
    """What the bank answered: the QRIS content (EMVCo text the QR image encodes) and its reference."""

    content: str
    reference: str


class PaymentChannel(Protocol):
    """A bank (or payment provider) that opens a virtual account for a bill."""

    def create_va(self, request: VaRequest) -> VaCreated:
        """Open a VA for the bill; raise BankUnavailable when the bank refuses or does not answer."""

    def inquiry_va(self, va_number: str, bill_number: str) -> dict[str, Any]:
        """Return the bank's record of a VA (SNAP's virtualAccountData)."""

    def generate_qris(self, request: QrRequest) -> QrCreated:
        """Generate a dynamic QRIS for the bill; raise BankUnavailable when the bank refuses or does not answer."""


@dataclass
class SnapBank:
    """The SNAP VA adapter: signs each call, fetches a token first, speaks JSON over HTTP."""

    base_url: str
    partner_id: str
    partner_service_id: str
    channel_id: str
    client_id: str
    client_secret: str
    timeout_s: float = 10.0
    clock: Callable[[], datetime] | None = None

    def _now(self) -> datetime:
        now: datetime = self.clock() if self.clock is not None else datetime.now(WIB)
        return now

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        try:
            answer = httpx.post(self.base_url.rstrip("/") + path, content=minify(body).encode(),
                                headers={"Content-Type": "application/json", **headers}, timeout=self.timeout_s)
            found: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise BankUnavailable(f"the bank did not answer {path}: {type(exc).__name__}",
                                  message_id=f"bank tidak menjawab {path}: {type(exc).__name__}") from exc
        code = str(found.get("responseCode", ""))
        if answer.status_code != 200 or not code.startswith("200"):
            raise BankUnavailable(f"the bank refused {path}: HTTP {answer.status_code} {code}",
                                  message_id=f"bank menolak {path}: HTTP {answer.status_code} {code}")
        return found

    def access_token(self) -> str:
        """Fetch a B2B access token with the client credentials."""
        stamp = timestamp(self._now())
        found = self._post(TOKEN_PATH, {"grantType": "client_credentials"}, {
            "X-TIMESTAMP": stamp, "X-CLIENT-KEY": self.client_id,
            "X-SIGNATURE": token_signature(self.client_secret, self.client_id, stamp)})
        return str(found.get("accessToken", ""))

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Make one signed transaction call with a fresh token and a fresh X-EXTERNAL-ID."""
        token = self.access_token()
        stamp = timestamp(self._now())
        return self._post(path, body, {
            "Authorization": f"Bearer {token}", "X-TIMESTAMP": stamp,
            "X-SIGNATURE": sign(self.client_secret, "POST", path, token, minify(body), stamp),
            "X-PARTNER-ID": self.partner_id, "X-EXTERNAL-ID": uuid.uuid4().hex[:32], "CHANNEL-ID": self.channel_id})

    def create_va(self, request: VaRequest) -> VaCreated:
        """Open a closed-amount VA for the bill (SNAP create-va, service 27)."""
        body = {"partnerServiceId": self.partner_service_id, "customerNo": request.customer_no,
                "virtualAccountNo": self.partner_service_id + request.customer_no,
                "virtualAccountName": request.name[:255], "trxId": request.bill_number,
                "totalAmount": {"value": f"{request.amount}.00", "currency": "IDR"},
                "virtualAccountTrxType": "C", "expiredDate": timestamp(request.due_at)}
        found = self.call(CREATE_VA_PATH, body)
        data = found.get("virtualAccountData") or {}
        number = str(data.get("virtualAccountNo", "")).strip()
        if not number:
            raise BankUnavailable("the bank answered create-va without a VA number",
                                  message_id="bank menjawab create-va tanpa nomor VA")
        return VaCreated(va_number=number, reference=str(found.get("responseCode")))

    def inquiry_va(self, va_number: str, bill_number: str) -> dict[str, Any]:
        """Return the bank's record of a VA (SNAP inquiry-va, service 30)."""
        customer_no = va_number[len(self.partner_service_id.strip()):]
        body = {"partnerServiceId": self.partner_service_id, "customerNo": customer_no,
                "virtualAccountNo": self.partner_service_id + customer_no, "trxId": bill_number}
        data: dict[str, Any] = self.call(INQUIRY_VA_PATH, body).get("virtualAccountData") or {}
        return data


    def generate_qris(self, request: QrRequest) -> QrCreated:
        """Generate a dynamic QRIS for the bill (SNAP QR MPM generate, service 47)."""
        body = {"partnerReferenceNo": request.bill_number, "merchantId": self.partner_id,
                "amount": {"value": f"{request.amount}.00", "currency": "IDR"},
                "validityPeriod": timestamp(request.due_at)}
        found = self.call(QR_GENERATE_PATH, body)
        content = str(found.get("qrContent", ""))
        if not content:
            raise BankUnavailable("the bank answered qr-mpm-generate without a QR content",
                                  message_id="bank menjawab qr-mpm-generate tanpa isi QR")
        return QrCreated(content=content, reference=str(found.get("referenceNo", "")))


def bank_from_settings(settings: Settings, clock: Callable[[], datetime] | None = None) -> SnapBank:
    """Build the SNAP adapter from the MPP_BANK_* settings; refuse when no client secret is set."""
    if settings.bank_client_secret is None:
        raise BankUnavailable("no bank is configured: set MPP_BANK_CLIENT_SECRET",
                              message_id="bank belum dikonfigurasi: isi MPP_BANK_CLIENT_SECRET")
    return SnapBank(base_url=settings.bank_base_url, partner_id=settings.bank_partner_id,
                    partner_service_id=settings.bank_partner_service_id, channel_id=settings.bank_channel_id,
                    client_id=settings.bank_client_id, client_secret=settings.bank_client_secret.get_secret_value(),
                    timeout_s=settings.bank_timeout_s, clock=clock)
