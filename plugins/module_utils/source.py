# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a document from url/path/content: the shared options of the *_info modules."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from .http import REQUESTS_IMPORT_ERROR, HttpError, fetch, redact_url, url_secrets
from .saml.certificate import CRYPTOGRAPHY_IMPORT_ERROR
from .saml.findings import ERROR
from .saml.signature import SIGNXML_IMPORT_ERROR
from .saml.xmlparse import LXML_IMPORT_ERROR

SOURCE_ARGUMENT_SPEC = dict(
    url=dict(type="str"),
    path=dict(type="path"),
    content=dict(type="str"),
    allow_http=dict(type="bool", default=False),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="int", default=30),
    max_redirects=dict(type="int", default=5),
    max_size=dict(type="int", default=5 * 1024 * 1024),
)
SOURCE_OPTIONS = ("url", "path", "content")
_LIBRARIES = (
    ("requests", REQUESTS_IMPORT_ERROR),
    ("lxml", LXML_IMPORT_ERROR),
    ("cryptography", CRYPTOGRAPHY_IMPORT_ERROR),
    ("signxml", SIGNXML_IMPORT_ERROR),
)


def require_libraries(module) -> None:
    for name, error in _LIBRARIES:
        if error:
            module.fail_json(msg=missing_required_lib(name), exception=error)


def read_source(module) -> tuple[bytes, str]:
    """Return (document bytes, where it came from); fail the module with a clear message otherwise.

    A file is read up to max_size + 1 bytes: callers report too_large when len(data) > max_size.
    """
    params = module.params
    for name in ("timeout", "max_size"):
        if params[name] <= 0:
            module.fail_json(msg="{0} must be a positive number, got {1}.".format(name, params[name]))
    if params["max_redirects"] < 0:
        module.fail_json(msg="max_redirects cannot be negative.")
    if params["url"] is not None:
        # Ansible masks no_log values everywhere in the result, including the invocation shown with -v.
        module.no_log_values.update(url_secrets(params["url"]))
        try:
            result = fetch(params["url"], timeout=params["timeout"], validate_certs=params["validate_certs"],
                           ca_path=params["ca_path"], allow_http=params["allow_http"], max_size=params["max_size"],
                           max_redirects=params["max_redirects"])
        except HttpError as exc:
            module.fail_json(msg=str(exc), url=redact_url(params["url"]))
        return result.body, result.url
    if params["path"] is not None:
        try:
            with open(params["path"], "rb") as handle:
                data = handle.read(params["max_size"] + 1)
        except OSError as exc:
            module.fail_json(msg="Cannot read {0}: {1}.".format(params["path"], exc.strerror or exc))
        # One byte over max_size is enough for the analysis to report too_large without reading it all.
        return data, params["path"]
    return params["content"].encode("utf-8"), "content"


def fail_on_errors(module, result: dict) -> None:
    """strict mode: fail listing every error finding, and still return the facts."""
    errors = [item for item in result["findings"] if item["severity"] == ERROR]
    if not errors or not module.params["strict"]:
        return
    lines = ["{0} has {1} error(s) (set strict: false to get the facts without failing):".format(
        result["source"], len(errors))]
    lines.extend("{0}: {1}".format(item["code"], item["message"]) for item in errors)
    module.fail_json(msg="\n".join(lines), **result)
