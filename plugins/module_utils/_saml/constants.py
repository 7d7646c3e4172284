# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

The one home of the SAML and XML-DSig URIs the package reads and writes, and of the size caps.
"""

from __future__ import annotations

# Size caps. A module reads at most DEFAULT_MAX_SIZE unless max_size says otherwise: an IdP's own
# metadata is a few KB. A library caller that gives no cap gets ANALYSIS_MAX_SIZE, room for the
# largest federation aggregates (InCommon, eduGAIN: tens of MB) in the benchmark.
DEFAULT_MAX_SIZE = 5 * 1024 * 1024
ANALYSIS_MAX_SIZE = 64 * 1024 * 1024

# Namespaces
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"

# Bindings, NameID formats
HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BROWSER_SSO_BINDINGS = (HTTP_POST, HTTP_REDIRECT)
EMAIL_NAME_ID = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

# Element names in Clark notation: lxml resolves them without a prefix map (the hot path).
MD_ENTITY = "{%s}EntityDescriptor" % MD
MD_ENTITIES = "{%s}EntitiesDescriptor" % MD
MD_IDP_ROLE = "{%s}IDPSSODescriptor" % MD
MD_SP_ROLE = "{%s}SPSSODescriptor" % MD
MD_KEY_DESCRIPTOR = "{%s}KeyDescriptor" % MD
MD_NAME_ID_FORMAT = "{%s}NameIDFormat" % MD
DS_SIGNATURE = "{%s}Signature" % DS
DS_X509_CERTIFICATE = "{%s}X509Certificate" % DS

# Canonicalisation and transforms
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED_SIGNATURE = DS + "enveloped-signature"
TRANSFORMS = frozenset({
    ENVELOPED_SIGNATURE,
    EXC_C14N,
    EXC_C14N + "WithComments",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
    "http://www.w3.org/2006/12/xml-c14n11",
})

# Algorithms: URI -> (short name, key type, hash name in cryptography.hazmat.primitives.hashes)
_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
SIGNATURE_ALGORITHMS: dict[str, tuple[str, str, str]] = {
    DS + "rsa-sha1": ("rsa-sha1", "RSA", "SHA1"),
    _MORE + "rsa-sha256": ("rsa-sha256", "RSA", "SHA256"),
    _MORE + "rsa-sha384": ("rsa-sha384", "RSA", "SHA384"),
    _MORE + "rsa-sha512": ("rsa-sha512", "RSA", "SHA512"),
    _MORE + "ecdsa-sha1": ("ecdsa-sha1", "EC", "SHA1"),
    _MORE + "ecdsa-sha256": ("ecdsa-sha256", "EC", "SHA256"),
    _MORE + "ecdsa-sha384": ("ecdsa-sha384", "EC", "SHA384"),
    _MORE + "ecdsa-sha512": ("ecdsa-sha512", "EC", "SHA512"),
    DS + "dsa-sha1": ("dsa-sha1", "DSA", "SHA1"),
}
# URI -> (short name, hash name)
DIGEST_ALGORITHMS: dict[str, tuple[str, str]] = {
    DS + "sha1": ("sha1", "SHA1"),
    "http://www.w3.org/2001/04/xmlenc#sha256": ("sha256", "SHA256"),
    _MORE + "sha384": ("sha384", "SHA384"),
    "http://www.w3.org/2001/04/xmlenc#sha512": ("sha512", "SHA512"),
}
