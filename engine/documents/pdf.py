"""Render an issued document to PDF: a package's Jinja2 template, in the sandbox, then fpdf2.

Templates come from uploaded packages, so they are untrusted: they run in Jinja2's
`ImmutableSandboxedEnvironment` (no unsafe attributes, no mutation), with autoescaping (case
data cannot inject markup), no macros, `call` blocks or recursive loops, at most two nested
loops, a bounded `range`, bounded `*`/`+`/`**` results and at most MAX_HTML_CHARS of output. The
whole render runs in a child process (`engine.documents.isolate`) capped at RENDER_MEMORY_MB of memory and
RENDER_TIMEOUT_S seconds, which stops what the sandbox cannot see (a huge `ljust`, a long silent
loop). fpdf2 may load no local or remote resource (images come only as `data:` URIs). What a
template cannot change is printed by the platform itself: the issuing agency's header, the QR
code with the verification URL, the verification code and the signing key id. Fonts are the PDF
core fonts, so text is Latin-1: other characters are transliterated or become "?".

Package templates may extend the platform's layout: `{% extends "mpp/document.html" %}`.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from fpdf import FPDF, TextStyle
from fpdf.enums import ResourceAccessPolicy
from fpdf.errors import FPDFException
from jinja2 import FunctionLoader, TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.documents import isolate as isolate
from forms.labels import Labels

WIB = ZoneInfo("Asia/Jakarta")
BUILTIN_PREFIX = "mpp/"
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "data"
DEFAULT_TEMPLATE = "mpp/document.html"
MAX_HTML_CHARS = 200_000
MAX_RANGE_TOTAL = 10_000
MAX_SEQUENCE = 10_000
MAX_LOOP_DEPTH = 2
RENDER_TIMEOUT_S = 5.0
RENDER_MEMORY_MB = 256
# Official documents print headings in black, not fpdf2's default dark red.
HEADINGS = {tag: TextStyle(color="#000000", font_size_pt=size, t_margin=4, b_margin=2)
            for tag, size in (("h1", 18), ("h2", 15), ("h3", 13))}
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
# Core PDF fonts speak Latin-1; map the punctuation people actually type to its nearest form.
_LATIN1 = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u2026": "...", "\u2022": "-", "\u00a0": " ", "\u2122": "(TM)"})


class TemplateFailed(Exception):
    """A document template failed to compile or render; says where and what."""

    def __init__(self, message: str, file: str | None = None) -> None:
        super().__init__(message, file)  # both in args, so the error survives the trip from the child process
        self.message, self.file = message, file


@dataclass(frozen=True)
class RenderInput:
    """Everything printed on one document."""

    title_id: str
    title_en: str
    number: str
    holder: str
    agency_id: str
    agency_en: str
    service_id: str
    service_en: str
    issued_at: datetime
    verify_url: str
    code: str
    key_id: str
    template: str | None
    facts: list[tuple[str, str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    # field -> (Indonesian, English) label of its value, from the package's forms (forms.labels)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    # A preview's mark, printed across every page and in place of the QR code; "" on an issued document.
    watermark: str = ""


UNLABELLED = Labels()  # no forms: the conventions that need none (money by name, yes/no, channels)


def tanggal(value: Any) -> str:
    """Format a date (or ISO date text) the Indonesian way: 16 Maret 2026."""
    if isinstance(value, Undefined):
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(WIB).date()
    elif isinstance(value, str):
        text = value
        try:
            value = date.fromisoformat(text[:10])
        except ValueError:
            return text
    if not isinstance(value, date):
        return str(value)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def rupiah(value: Any) -> str:
    """Format an amount as Rupiah with dots between thousands: Rp1.807.500."""
    if isinstance(value, Undefined):
        return ""
    try:
        amount = round(float(value))
    except (TypeError, ValueError, OverflowError):  # not a number, NaN, or beyond a double (10**400, "Infinity")
        return str(value)
    return "Rp" + f"{amount:,}".replace(",", ".")


_BUILTIN_CODE: dict[tuple[str | None, str], Any] = {}  # (name, source) -> compiled code of a platform template


class DocumentEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with bounded growth operators and a bounded `range`."""

    intercepted_binops = frozenset(["*", "**", "+"])

    def __init__(self, loader: FunctionLoader) -> None:
        super().__init__(loader=loader, autoescape=True, auto_reload=False)
        self.filters.update(tanggal=tanggal, rupiah=rupiah)
        self.globals["range"] = self._range
        self.range_used = 0

    def compile(self, source: Any, name: str | None = None, filename: str | None = None, raw: bool = False,
                defer_init: bool = False) -> Any:
        """Compile a template; the platform's own (`mpp/...`) once per process, as every environment here is alike.

        The render server compiles them in its warm-up, before it forks: a child finds them compiled.
        """
        if raw:
            return super().compile(source, name, filename, raw=True, defer_init=defer_init)
        if defer_init or not isinstance(source, str) or not (name or "").startswith(BUILTIN_PREFIX):
            return super().compile(source, name, filename, defer_init=defer_init)
        code = _BUILTIN_CODE.get((name, source))
        if code is None:
            code = _BUILTIN_CODE[(name, source)] = super().compile(source, name, filename)
        return code

    def _range(self, *args: int) -> range:
        items = range(*args)
        self.range_used += len(items)
        if self.range_used > MAX_RANGE_TOTAL:
            raise TemplateFailed(f"range() produced more than {MAX_RANGE_TOTAL} items")
        return items

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Compute a growth operator after checking its result stays small."""
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise TemplateFailed("exponent too large")
        if operator == "*" and (isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple)):
            count = right if isinstance(left, str | list | tuple) else left
            seq = left if isinstance(left, str | list | tuple) else right
            if isinstance(count, int) and len(seq) * count > MAX_SEQUENCE:
                raise TemplateFailed("repeated text or list too long")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, str | list | tuple) and len(result) > MAX_HTML_CHARS:
            raise TemplateFailed("value too long")
        return result


def _check_shape(tree: nodes.Template, name: str) -> None:
    """Refuse constructs whose cost the sandbox cannot bound: macros, call blocks, deep or recursive loops."""
    for banned, what in ((nodes.Macro, "macros"), (nodes.CallBlock, "call blocks")):
        if tree.find(banned) is not None:
            raise TemplateFailed(f"{what} are not allowed in document templates", name)

    def depth(node: nodes.Node, level: int) -> None:
        for child in node.iter_child_nodes():
            inner = level
            if isinstance(child, nodes.For):
                if child.recursive:
                    raise TemplateFailed("recursive loops are not allowed in document templates", name)
                inner = level + 1
                if inner > MAX_LOOP_DEPTH:
                    raise TemplateFailed(f"loops may nest at most {MAX_LOOP_DEPTH} deep", name)
            depth(child, inner)

    depth(tree, 0)


def package_templates(files: Mapping[str, bytes]) -> Callable[[str], str | None]:
    """Return a loader over a package's .html files and the platform's own templates."""

    def load(name: str) -> str | None:
        if not name.endswith(".html"):
            return None
        if name.startswith(BUILTIN_PREFIX):
            path = BUILTIN_DIR / name[len(BUILTIN_PREFIX):]
            return path.read_text("utf-8") if path.parent == BUILTIN_DIR and path.is_file() else None
        raw = files.get(name)
        if raw is None:
            return None
        source = raw.decode("utf-8", errors="strict")
        _check_shape(ImmutableSandboxedEnvironment().parse(source), name)
        return source

    return load


def _context(item: RenderInput) -> dict[str, Any]:
    doc = {"title": item.title_id, "title_en": item.title_en, "number": item.number, "holder": item.holder,
           "agency": item.agency_id, "agency_en": item.agency_en, "service": item.service_id,
           "service_en": item.service_en, "issued_date": item.issued_at.astimezone(WIB).date(),
           "verify_url": item.verify_url, "code": item.code}
    facts = [{"label": label_id, "label_en": label_en, "value": value} for label_id, label_en, value in item.facts]

    def label(name: Any, lang: Any = "id") -> str:
        """Return a case-data value as people read it (a choice's name, Rupiah, a date), not its code."""
        key = str(name)
        if key in item.labels:
            return item.labels[key][1 if lang == "en" else 0]
        return UNLABELLED.value(key, item.data.get(key), "en" if lang == "en" else "id")  # a preview's sample data

    return {"doc": doc, "facts": facts, "data": item.data, "label": label}


def render_html(item: RenderInput, files: Mapping[str, bytes]) -> str:
    """Render a document's template to HTML in the sandbox, bounded in size and time."""
    name = item.template or DEFAULT_TEMPLATE
    env = DocumentEnvironment(FunctionLoader(package_templates(files)))
    try:
        template = env.get_template(name)
        chunks: list[str] = []
        size, deadline = 0, time.monotonic() + RENDER_TIMEOUT_S
        stream: Iterator[str] = template.generate(_context(item))
        for chunk in stream:
            size += len(chunk)
            if size > MAX_HTML_CHARS:
                raise TemplateFailed(f"the template produced more than {MAX_HTML_CHARS} characters", name)
            if time.monotonic() > deadline:
                raise TemplateFailed(f"rendering took longer than {RENDER_TIMEOUT_S} s", name)
            chunks.append(chunk)
    except TemplateSyntaxError as exc:
        raise TemplateFailed(f"line {exc.lineno}: {exc.message}", exc.filename or exc.name or name) from exc
    except TemplateFailed as exc:
        exc.file = exc.file or name
        raise
    except (TemplateError, UnicodeDecodeError, RecursionError, TypeError, ValueError, ArithmeticError,
            LookupError, AttributeError) as exc:
        raise TemplateFailed(f"{type(exc).__name__}: {exc}", name) from exc
    return "".join(chunks)


def latin1(text: str) -> str:
    """Reduce text to what the PDF core fonts can print."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _qr_png(url: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    return buffer


def _header(pdf: FPDF, item: RenderInput) -> None:
    pdf.set_font("helvetica", "B", 12)
    pdf.multi_cell(0, 6, latin1(item.agency_id.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(0, 5, latin1(f"Mal Pelayanan Publik - {item.service_id}"), align="C", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
    pdf.ln(5)


def _verification_block(pdf: FPDF, item: RenderInput) -> None:
    """Print the QR code, the verification URL and code, and the key id; on a new page when needed."""
    if pdf.get_y() > pdf.h - 70:
        pdf.add_page()
    top = pdf.h - 62
    pdf.line(pdf.l_margin, top - 3, pdf.w - pdf.r_margin, top - 3)
    pdf.image(_qr_png(item.verify_url), x=pdf.l_margin, y=top, w=40, h=40, link=item.verify_url)
    pdf.set_xy(pdf.l_margin + 45, top)
    pdf.set_font("helvetica", "", 8.5)
    lines = (
        "Dokumen ini diterbitkan secara elektronik dan ditandatangani dengan kunci platform MPP "
        f"(id kunci {item.key_id}). Pindai kode QR atau buka alamat di bawah untuk memeriksa keasliannya.",
        "This document was issued electronically and signed with the MPP platform key. Scan the QR code "
        "or open the address below to check that it is authentic.",
    )
    for line in lines:
        pdf.set_x(pdf.l_margin + 45)
        pdf.multi_cell(0, 4, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + 45)
    pdf.set_font("helvetica", "B", 9)
    pdf.multi_cell(0, 5, latin1(f"Kode verifikasi / Verification code: {item.code}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + 45)
    pdf.set_font("helvetica", "U", 9)
    pdf.set_text_color(0, 0, 160)
    pdf.cell(0, 5, latin1(item.verify_url), link=item.verify_url)
    pdf.set_text_color(0, 0, 0)


def _preview_block(pdf: FPDF, item: RenderInput) -> None:
    """Say, where the QR code goes, that a preview is neither signed nor verifiable."""
    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.set_y(pdf.h - 45)
    pdf.set_font("helvetica", "B", 11)
    pdf.set_text_color(170, 0, 0)
    pdf.multi_cell(0, 6, latin1(item.watermark), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(0, 4.5, latin1(
        "Pratinjau dari data kasus saat ini: belum ditandatangani, tanpa kode QR dan kode verifikasi. / "
        "A preview from the case's current data: not signed, no QR code or verification code."),
        align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def _watermark(pdf: FPDF, text: str) -> None:
    """Print the mark diagonally, translucent, across every page (one line per language, split at " / ")."""
    lines = [latin1(line.strip()) for line in text.split(" / ")]
    for page in range(1, pdf.pages_count + 1):
        pdf.page = page
        with pdf.local_context(fill_opacity=0.2, text_color=(200, 0, 0)):
            pdf.set_font("helvetica", "B", 28)
            with pdf.rotation(55, x=pdf.w / 2, y=pdf.h / 2):
                for n, line in enumerate(lines):
                    y = pdf.h / 2 + (n - (len(lines) - 1) / 2) * 14 + 4
                    pdf.text(pdf.w / 2 - pdf.get_string_width(line) / 2, y, line)


def warm_up() -> None:
    """Render a sample document with the platform's own template (the render server runs this before it forks).

    What a first render loads lazily (fpdf2's HTML parser and core-font metrics, the QR encoder's tables, the
    platform layout's compiled template) is then in the server, shared by every child it forks, instead of being
    loaded again by each: about a fifth of a document's CPU.
    """
    issued = datetime(2026, 1, 2, 3, 4, 5, tzinfo=WIB)
    sample = RenderInput(title_id="Contoh", title_en="Sample", number="000/CONTOH/2026", holder="Contoh",
                         agency_id="Contoh", agency_en="Sample", service_id="Contoh", service_en="Sample",
                         issued_at=issued, verify_url="https://mpp.invalid/verifikasi/CONTOH", code="CONTOH",
                         key_id="contoh", template=None, facts=[("Nama", "Name", "Contoh")], data={"nama": "Contoh"})
    _render_pdf(sample, {})


def render_document(item: RenderInput, files: Mapping[str, bytes]) -> bytes:
    """Render a document to PDF bytes (deterministic for the same input) in a bounded child process."""
    limits = isolate.ChildLimits(timeout_s=RENDER_TIMEOUT_S, memory_mb=RENDER_MEMORY_MB)
    try:
        return isolate.run(_render_pdf, item, dict(files), limits=limits)
    except TemplateFailed:
        raise
    except isolate.IsolationLimit as exc:
        raise TemplateFailed(f"rendering {exc.message}", item.template or DEFAULT_TEMPLATE) from exc
    except Exception as exc:  # noqa: BLE001 - whatever else a template makes the renderer raise is the template's
        raise TemplateFailed(f"{type(exc).__name__}: {exc}", item.template or DEFAULT_TEMPLATE) from exc


def _render_pdf(item: RenderInput, files: dict[str, bytes]) -> bytes:
    html = render_html(item, files)
    pdf = FPDF(format="A4")
    pdf.resource_access_policy = ResourceAccessPolicy.NONE
    pdf.set_creation_date(item.issued_at)
    pdf.set_title(latin1(f"{item.title_id} {item.number}"))
    pdf.set_author(latin1(item.agency_id))
    pdf.set_subject(item.verify_url)
    pdf.set_keywords(f"mpp-verify:{item.code}")
    pdf.set_creator("MPP")
    pdf.set_producer("MPP")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    _header(pdf, item)
    pdf.set_font("helvetica", "", 11)
    try:
        pdf.write_html(latin1(html), tag_styles=HEADINGS)
    except (FPDFException, ValueError, TypeError, KeyError, IndexError, NotImplementedError, OSError) as exc:
        raise TemplateFailed(f"the HTML cannot be laid out: {type(exc).__name__}: {exc}",
                             item.template or DEFAULT_TEMPLATE) from exc
    if item.watermark:
        _preview_block(pdf, item)
        _watermark(pdf, item.watermark)
    else:
        _verification_block(pdf, item)
    return bytes(pdf.output())
