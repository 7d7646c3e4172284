# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that read a document from a URL, a file or a string."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description:
      - URL to fetch the document from, for example the IdP's metadata endpoint.
      - Only C(https://) unless O(allow_http=true). Redirects are followed up to O(max_redirects) and each hop
        is checked the same way.
      - Exactly one of O(url), O(path) and O(content) is required.
    type: str
  path:
    description:
      - Path of a local file, on the host the module runs on, holding the document.
    type: path
  content:
    description:
      - The document itself, as a string.
    type: str
  allow_http:
    description:
      - Allow a plain C(http://) O(url) (or redirect). Metadata fetched without TLS can be swapped in transit,
        so leave this off outside tests.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the TLS certificate of the server behind O(url). Set to V(false) only for throwaway tests;
        prefer O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) that sign the server certificate behind O(url), for a private CA.
    type: path
  timeout:
    description:
      - Seconds allowed for each HTTP attempt, from connecting to reading the last byte.
    type: int
    default: 30
  max_redirects:
    description:
      - How many redirects to follow before giving up (a loop is detected at once).
    type: int
    default: 5
  max_size:
    description:
      - Largest document accepted, in bytes. Larger bodies are refused while downloading, before any parsing.
    type: int
    default: 5242880
notes:
  - Every HTTP call has a timeout and is retried (twice, with backoff honouring C(Retry-After)) on HTTP 429
    and 5xx answers and on connection failures.
  - Credentials in O(url) (user info or secret-looking query values) are masked in every message and return value.
"""
