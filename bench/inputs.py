# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documents the sections measure: the files of the shared corpus (corpus_locator finds it, as it does
for the tests) and a generated, signed federation aggregate, cached in bench/results/ (generation is not timed)."""

from __future__ import annotations

import functools
import hashlib
import time
from pathlib import Path
from typing import Any

from lxml import etree

from . import ROOT
from .runner import RESULTS

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
FACTORY = ROOT / "tests" / "support" / "saml_factory.py"

Item = dict[str, Any]  # name, file, data, role, target, root, entity_id, entities, signer_pem


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def _pem(body: str) -> str:
    body = "".join(body.split())
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return "-----BEGIN CERTIFICATE-----\n{0}\n-----END CERTIFICATE-----\n".format(lines)


def describe(data: bytes, role: str) -> Item:
    """The entity to pick (aggregates: the last with the role), and the signing certificate embedded in a
    root signature (if any)."""
    root = _parse(data)
    role_tag = "{%s}%s" % (MD, "IDPSSODescriptor" if role == "idp" else "SPSSODescriptor")
    info: Item = {"root": etree.QName(root).localname, "entity_id": None, "entities": 1, "signer_pem": None}
    if info["root"] == "EntitiesDescriptor":
        entities = root.findall(".//{%s}EntityDescriptor" % MD)
        info["entities"] = len(entities)
        with_role = [entity for entity in entities if entity.find(role_tag) is not None]
        info["entity_id"] = (with_role or entities)[-1].get("entityID")
    body = root.findtext("{%s}Signature/{%s}KeyInfo/{%s}X509Data/{%s}X509Certificate" % (DS, DS, DS, DS))
    if body:
        info["signer_pem"] = _pem(body)
    return info


def corpus_inputs(folder: Path | None, only: str | None) -> list[Item]:
    """Every file of corpus/saml/{idp,sp} whose name contains `only`, with the target its role implies."""
    if folder is None:
        return []
    inputs = []
    for role in ("idp", "sp"):
        for path in sorted((folder / role).iterdir()):
            if not path.is_file() or (only and only not in path.name):
                continue
            data = path.read_bytes()
            identity_center_sp = role == "sp" and b"/platform/saml/" in data
            item = {"name": "{0}/{1}".format(role, path.name.split("__")[0]), "file": str(path), "data": data,
                    "role": role, "target": "identity_center" if role == "idp" or identity_center_sp else "generic"}
            item.update(describe(data, role))
            inputs.append(item)
    return inputs


def _generate_aggregate(count: int, doc_path: Path, cert_path: Path) -> None:
    """`count` entities: three IdPs to one Identity Center SP, signed by a fresh federation key."""
    import saml_factory as factory  # pylint: disable=import-outside-toplevel  # signxml: only when generating

    signer = factory.make_certificate(factory.make_key("rsa", 2048, 900), subject_cn="bench federation signer")
    idp_certs = [factory.make_certificate(factory.make_key("rsa", 2048, 901 + i), subject_cn="idp{0}".format(i))
                 for i in range(4)]
    documents = []
    for index in range(count):
        if index % 4 == 3:
            documents.append(factory.sp_metadata_identity_center(
                "eu-west-1", "d-{0:010d}".format(index), tenant="ssoins-{0:016x}".format(index))
                .replace(b"<md:EntityDescriptor ", '<md:EntityDescriptor ID="_e{0}" '.format(index).encode(), 1))
        else:
            documents.append(factory.idp_metadata(
                "https://idp{0}.example.test/saml".format(index), id="_e{0}".format(index),
                signing_certs=[idp_certs[index % 4]], encryption_certs=[idp_certs[(index + 1) % 4]],
                sso_location="https://idp{0}.example.test/saml/sso".format(index)))
    aggregate = factory.entities_aggregate(documents, name="urn:example:bench-federation", valid_until=factory.utc(30))
    doc_path.write_bytes(factory.sign(aggregate, signer))
    cert_path.write_text(signer.pem, encoding="ascii")


@functools.lru_cache(maxsize=None)
def aggregate_input(count: int) -> Item:
    """A signed md:EntitiesDescriptor of `count` entities (IdPs and Identity Center SPs) made with the test
    factory, cached in bench/results/ under the factory's hash; one per run of the bench."""
    factory_hash = hashlib.sha256(FACTORY.read_bytes()).hexdigest()[:12]
    stem = RESULTS / "aggregate-{0}-{1}".format(count, factory_hash)
    doc_path, cert_path = stem.with_suffix(".xml"), stem.with_suffix(".pem")
    made = "cached"
    started = time.perf_counter()
    if not (doc_path.exists() and cert_path.exists()):
        RESULTS.mkdir(parents=True, exist_ok=True)
        for old in RESULTS.glob("aggregate-{0}-*".format(count)):
            old.unlink()
        _generate_aggregate(count, doc_path, cert_path)
        made = "generated"
    data = doc_path.read_bytes()
    item = {"name": "generated/aggregate-{0}-signed".format(count), "file": str(doc_path), "data": data,
            "role": "idp", "target": "identity_center"}
    item.update(describe(data, "idp"))
    item["signer_pem"] = cert_path.read_text(encoding="ascii")
    print("aggregate: {0} entities, {1:,} bytes, {2} in {3:.1f}s ({4})".format(
        count, len(data), made, time.perf_counter() - started, doc_path.relative_to(ROOT)))
    return item
