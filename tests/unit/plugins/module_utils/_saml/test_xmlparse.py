# -*- coding: utf-8 -*-
"""Hostile XML is refused before parsing: no expansion, no file or network access, little memory."""

from __future__ import annotations

import builtins
import socket
import tracemalloc

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.findings import SamlError
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.metadata import analyze_metadata
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.xmlparse import parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol4;"/>"""
QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "' + b"x" * 100000 + b'">]><r>'
             + b"&a;" * 20000 + b"</r>")
XXE_FILE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""
XXE_URL = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]><r/>"""
HOSTILE = {
    "billion_laughs": BILLION_LAUGHS,
    "quadratic_blowup": QUADRATIC,
    "xxe_file": XXE_FILE,
    "xxe_url": XXE_URL,
    "external_dtd": EXTERNAL_DTD,
    "parameter_entity": PARAMETER_ENTITY,
    "utf16_doctype": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'.encode("utf-16"),
    "utf16_no_bom": '<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE r SYSTEM "x.dtd"><r/>'.encode("utf-16-be"),
    "lowercase_spaced": b"<?xml version='1.0'?><! doctype r [<!entity x 'y'>]><r/>",
}


@pytest.fixture
def no_io(monkeypatch):
    """Any attempt to open a file or a socket during the test fails it."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the parser tried to reach the file system or the network")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(builtins, "open", refuse)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_without_io(name, no_io):
    with pytest.raises(SamlError) as caught:
        parse_xml(HOSTILE[name], max_size=10 * 1024 * 1024)
    assert caught.value.finding.code in ("xml_forbidden_construct", "xml_malformed")
    if name != "lowercase_spaced":  # '<! doctype' is not even XML, either code is a refusal
        assert caught.value.finding.code == "xml_forbidden_construct"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_costs_little_memory(name):
    tracemalloc.start()
    try:
        report = analyze_metadata(HOSTILE[name])
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not report.valid
    assert peak < 4 * 1024 * 1024 + 2 * len(HOSTILE[name])


def test_size_cap_is_checked_before_parsing():
    with pytest.raises(SamlError) as caught:
        parse_xml(b"<r>" + b" " * 2000 + b"</r>", max_size=1000)
    assert caught.value.finding.code == "too_large"
    assert "max_size" in caught.value.finding.message


@pytest.mark.parametrize("data,code", [
    (b"", "xml_malformed"),
    (b"   \n ", "xml_malformed"),
    (b"<a><b></a>", "xml_malformed"),
    (b"<a/><b/>", "xml_malformed"),
    (b"\xff\xfe\x00garbage", "xml_malformed"),
    (b"<r>&undefined;</r>", "xml_malformed"),
])
def test_malformed_documents(data, code):
    with pytest.raises(SamlError) as caught:
        parse_xml(data, max_size=1000)
    assert caught.value.finding.code == code


@pytest.mark.parametrize("data,where", [
    (b"hello, not XML", "line 1, column 1"),
    (b'{"metadata": "json"}', "line 1, column 1"),
    (b"<a>\n<b>\n</a>", "line 3, column 5"),
])
def test_malformed_message_gives_the_position_in_words_and_the_fix(data, where):
    with pytest.raises(SamlError) as caught:
        parse_xml(data, max_size=1000)
    message = caught.value.finding.message
    assert "<string>" not in message and "at " + where in message
    assert message.count(where) == 1, "lxml's own ', line N, column M' suffix is dropped"
    assert "fetch" in message.lower()


def test_xinclude_is_never_processed(no_io):
    root = parse_xml(b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" parse="text"/></r>',
                     max_size=1000)
    assert root[0].tag == "{http://www.w3.org/2001/XInclude}include"
    assert "root:" not in (root.text or "")


def test_not_metadata_root():
    report = analyze_metadata(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>')
    assert [item.code for item in report.findings] == ["not_metadata"]
    assert "Response" in report.findings[0].message
