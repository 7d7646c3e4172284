# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hardened XML parsing: the only place this collection turns bytes into an XML tree.

SAML metadata never needs a DTD, so any DOCTYPE or entity declaration is refused before the
parser sees it (billion laughs, quadratic blow-up, XXE all start there). The parser is then
configured so that nothing can reach the network or the file system even if the scan missed.
"""

from __future__ import annotations

import re
import threading

from .findings import SamlError, finding

try:
    from lxml import etree
except ImportError:  # pragma: no cover - the module reports it through _deps.require()
    etree = None

# '<!DOCTYPE' or '<!ENTITY' anywhere: no legitimate metadata contains either.
_FORBIDDEN = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_FORBIDDEN_MESSAGE = (
    "The document declares a DTD or entities ({what}). SAML metadata never needs them and they are "
    "the vector of XXE and entity-expansion attacks, so it was refused without being parsed. "
    "Fetch the metadata from the IdP's own endpoint, or remove the DOCTYPE."
)


def _scan_text(data: bytes) -> str:
    """Return the document as text for the forbidden-construct scan, whatever its encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    if len(data) > 1 and (data[0] == 0 or data[1] == 0):  # UTF-16/32 without a BOM
        for encoding in ("utf-16-be", "utf-16-le", "utf-32-be", "utf-32-le"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if text.lstrip().startswith("<"):
                return text
    return ""


def _prolog_end(data: bytes) -> int:
    """Where the root element (or a DOCTYPE) starts: a DTD can only sit in the prolog, so the scan
    stops there instead of reading a multi-megabyte federation file twice."""
    position = 0
    while True:
        start = data.find(b"<", position)
        if start < 0:
            return len(data)
        if data.startswith(b"<?", start):
            end = data.find(b"?>", start + 2)
        elif data.startswith(b"<!--", start):
            end = data.find(b"-->", start + 4)
        else:
            return start
        if end < 0:
            return len(data)
        position = end + 2


def _find_forbidden(data: bytes) -> str | None:
    match = _FORBIDDEN.search(data, 0, _prolog_end(data) + 64)
    if match:
        return match.group(0).decode("ascii", "replace")
    text = _scan_text(data)
    if text:
        text_match = re.search(r"<!\s*(?:DOCTYPE|ENTITY)", text, re.IGNORECASE)
        if text_match:
            return text_match.group(0)
    return None


_LOCAL = threading.local()
# lxml ends its messages with the position ("..., line 3, column 5"); the message says it in its own words.
_POSITION = re.compile(r",\s*line \d+, column \d+$")
_MALFORMED_FIX = ("Check that the URL or file holds the metadata XML itself, not an HTML login or error page, "
                  "JSON or a certificate, and that the download was not cut short; fetch it again from the IdP.")


def _parser() -> "etree.XMLParser":
    # One parser per thread: lxml parsers are reusable but not thread-safe, and building one costs
    # about as much as parsing a small metadata document.
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_blank_text=False,
        )
    return parser


def _syntax_message(exc: "etree.XMLSyntaxError") -> str:
    """lxml's reason without its '(<string>, line 1)' suffix, the position in words, and the fix."""
    reason = _POSITION.sub("", (exc.msg or "").strip()) or "a syntax error"
    line, column = exc.position or (0, 0)
    where = " at line {0}, column {1}".format(line, column) if line else ""
    return "The document is not well-formed XML{0}: {1}. {2}".format(where, reason, _MALFORMED_FIX)


def parse_xml(data: bytes, *, max_size: int) -> "etree._Element":
    """Parse untrusted XML safely or raise SamlError with xml_malformed/xml_forbidden_construct/too_large."""
    if len(data) > max_size:
        raise SamlError(finding(
            "too_large",
            "The document is {0} bytes, over the {1}-byte cap; raise max_size if it is legitimate.".format(len(data), max_size),
        ))
    if not data or data.isspace():
        raise SamlError(finding("xml_malformed", "The document is empty: expected SAML metadata XML."))
    forbidden = _find_forbidden(data)
    if forbidden:
        raise SamlError(finding("xml_forbidden_construct", _FORBIDDEN_MESSAGE.format(what=forbidden)))
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise SamlError(finding("xml_malformed", _syntax_message(exc))) from None
    except ValueError as exc:  # e.g. an encoding declaration lxml cannot use
        raise SamlError(finding("xml_malformed", "The document cannot be read as XML: {0}.".format(exc))) from None
    # Defence in depth: the scan above should have caught these already.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise SamlError(finding("xml_forbidden_construct", _FORBIDDEN_MESSAGE.format(what="DOCTYPE")))
    return root
