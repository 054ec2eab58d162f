"""Parse uploaded XML (BPMN, DMN) without trusting it.

Uploaded diagrams come from outside the platform, so every DTD feature is refused outright:
entity expansion (billion laughs), external entities (XXE, file and network reads) and external
DTDs all need a DOCTYPE. XInclude is never processed and its elements are refused too.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.errors import UnsafeXml

MAX_XML_BYTES = 2 * 1024 * 1024
XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")

_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = {
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\xfe\xff": "UTF-16",
    b"\xff\xfe": "UTF-16",
}
_DECLARED_ENCODING = re.compile(rb"""^<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_UTF8_NAMES = ("utf-8", "utf8")
_LXML_POSITION = re.compile(r",? line \d+, column \d+$")


def parse_xml(data: bytes, *, filename: str, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse untrusted XML bytes into an element, refusing anything unsafe with UnsafeXml."""
    _check_size(data, filename, max_bytes)
    _check_encoding(data, filename)
    _check_prolog(data, filename)
    root = _parse(data, filename)
    _check_tree(root, filename)
    return root


def _check_size(data: bytes, filename: str, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise UnsafeXml(filename, f"the file is {len(data):,} bytes; at most {max_bytes:,} bytes are allowed")
    if not data.strip():
        raise UnsafeXml(filename, "the file is empty")


def _check_encoding(data: bytes, filename: str) -> None:
    for bom, name in _WIDE_BOMS.items():
        if data.startswith(bom):
            raise UnsafeXml(filename, f"the file is encoded as {name}; save it as UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeXml(
            filename, f"the file is not valid UTF-8 (bad byte at offset {exc.start}); save it as UTF-8"
        ) from None
    match = _DECLARED_ENCODING.match(data.removeprefix(_UTF8_BOM))
    if match and match.group(1).decode("ascii", "replace").strip().lower() not in _UTF8_NAMES:
        declared = match.group(1).decode("ascii", "replace")
        raise UnsafeXml(filename, f'the XML declaration names encoding "{declared}"; only UTF-8 is accepted')


def _check_prolog(data: bytes, filename: str) -> None:
    """Refuse a DOCTYPE (or any other markup declaration) before the root element."""
    text = data.removeprefix(_UTF8_BOM).decode("utf-8")
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            terminator = "?>"
        elif text.startswith("<!--", pos):
            terminator = "-->"
        elif text.startswith("<!", pos):
            raise UnsafeXml(filename, "a DOCTYPE or entity declaration is not allowed in uploaded XML")
        else:
            return
        end = text.find(terminator, pos)
        if end < 0:
            return  # unterminated: the parser reports it with a line and column
        pos = end + len(terminator)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def _parse(data: bytes, filename: str) -> etree._Element:
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        message = _LXML_POSITION.sub("", (exc.msg or str(exc)).strip())
        raise UnsafeXml(filename, f"not well-formed XML at line {line}, column {column}: {message}") from None
    except ValueError as exc:  # lxml refuses some inputs before libxml2 sees them
        raise UnsafeXml(filename, f"not well-formed XML: {exc}") from None


def _check_tree(root: etree._Element, filename: str) -> None:
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml(filename, "a DOCTYPE or entity declaration is not allowed in uploaded XML")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeXml(filename, f"entity reference &{node.name}; is not allowed in uploaded XML")
        if isinstance(node.tag, str) and etree.QName(node).namespace in XINCLUDE_NAMESPACES:
            raise UnsafeXml(
                filename, f"XInclude element <{etree.QName(node).localname}> at line {node.sourceline} is not allowed"
            )
