# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

What every IdP resource module shares, so that a vendor is one client file and one module:
- the options naming the Identity Center SP (its metadata, or issuer + ACS URLs) and reading them into
  a ServiceProvider (issuer, every Region's ACS URL, primary first), refused with the finding codes when
  the metadata has an error;
- the API connection options (validate_certs, ca_path, timeout, deadline) and a RestClient built from
  them, whose secrets (tokens obtained at run time too) become no_log values and whose retries are shown
  at -vvv;
- one way to fail on an ApiError: the vendor's message and code, the request id, never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .. import _deps
from .._saml.constants import DEFAULT_MAX_SIZE, EMAIL_NAME_ID

SP_ARGUMENT_SPEC: dict[str, dict] = dict(
    sp_metadata_path=dict(type="path"),
    sp_metadata_content=dict(type="str"),
    sp_metadata_url=dict(type="str"),
    sp_entity_id=dict(type="str"),
    sp_acs_urls=dict(type="list", elements="str"),
)
SP_MUTUALLY_EXCLUSIVE = [("sp_metadata_path", "sp_metadata_content", "sp_metadata_url", "sp_entity_id")]
SP_REQUIRED_TOGETHER = [("sp_entity_id", "sp_acs_urls")]
SP_OPTIONS = ("sp_metadata_path", "sp_metadata_content", "sp_metadata_url", "sp_entity_id")

API_ARGUMENT_SPEC: dict[str, dict] = dict(
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="int", default=30),
    deadline=dict(type="int", default=600),
)


@dataclass
class ServiceProvider:
    """The Identity Center SP as the IdP application must know it."""

    entity_id: str
    acs_urls: list[str]  # every Region's, the primary Region's first
    regions: list[str] = field(default_factory=list)  # the Region of each ACS URL, same order ("" if not AWS's)
    name_id_format: str = EMAIL_NAME_ID
    warnings: list[str] = field(default_factory=list)

    @property
    def primary_acs_url(self) -> str:
        return self.acs_urls[0]

    def as_dict(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id, "acs_urls": list(self.acs_urls), "regions": list(self.regions),
                "name_id_format": self.name_id_format}


def read_service_provider(module) -> ServiceProvider:
    """The SP of the task's options (required for state: present); fails the module with the reason."""
    params = module.params
    if not any(params.get(name) for name in SP_OPTIONS):
        module.fail_json(msg="state: present needs the Identity Center SP: one of sp_metadata_path, sp_metadata_content, "
                             "sp_metadata_url (the SP metadata downloaded from the Identity Center console), or "
                             "sp_entity_id with sp_acs_urls.")
    if params.get("sp_entity_id"):
        return _from_urls(module, params["sp_entity_id"], params["sp_acs_urls"] or [])
    data, source = _read_metadata(module)
    return _from_metadata(module, data, source)


def _from_urls(module, entity_id: str, acs_urls: list[str]) -> ServiceProvider:
    from .._saml.aws_sp_urls import classify_acs, parse_issuer  # pylint: disable=import-outside-toplevel

    if not acs_urls:
        module.fail_json(msg="sp_acs_urls is empty: give the ACS URL of every Region of the Identity Center instance "
                             "(the console's 'IAM Identity Center ACS URL').")
    bad = [url for url in acs_urls if not url.startswith("https://")]
    if bad:
        module.fail_json(msg="sp_acs_urls must be https:// URLs; not: {0}.".format(", ".join(bad)))
    warnings = []
    if parse_issuer(entity_id) is None:
        warnings.append("sp_entity_id {0!r} is not an IAM Identity Center issuer (https://<region>.signin.aws.amazon.com"
                        "/platform/saml/d-xxxxxxxxxx); Identity Center refuses assertions for any other "
                        "audience.".format(entity_id))
    urls = _unique(acs_urls)
    return ServiceProvider(entity_id, urls, [(classify_acs(url) or {}).get("region", "") for url in urls],
                           warnings=warnings)


def _read_metadata(module) -> tuple[bytes, str]:
    params = module.params
    if params.get("sp_metadata_content"):
        return params["sp_metadata_content"].encode("utf-8"), "sp_metadata_content"
    if params.get("sp_metadata_path"):
        try:
            with open(params["sp_metadata_path"], "rb") as handle:
                return handle.read(DEFAULT_MAX_SIZE + 1), params["sp_metadata_path"]
        except OSError as error:
            path = params["sp_metadata_path"]
            module.fail_json(msg="Cannot read sp_metadata_path {0}: {1}.".format(path, error.strerror or error))
    _deps.require(module, "requests")
    from .._http.fetch import HttpError, fetch  # pylint: disable=import-outside-toplevel

    try:
        result = fetch(params["sp_metadata_url"], timeout=params["timeout"], validate_certs=params["validate_certs"],
                       ca_path=params["ca_path"], allow_http=False, max_size=DEFAULT_MAX_SIZE)
    except HttpError as exc:
        module.fail_json(msg="Cannot fetch sp_metadata_url: {0}".format(exc))
    return result.body, result.url


def _from_metadata(module, data: bytes, source: str) -> ServiceProvider:
    _deps.require(module, "lxml", "cryptography")
    from .._saml.metadata import analyze_metadata  # pylint: disable=import-outside-toplevel

    report = analyze_metadata(data, role="sp", target="identity_center", max_size=DEFAULT_MAX_SIZE)
    if report.errors:
        module.fail_json(msg="The SP metadata ({0}) cannot configure the IdP application: {1}".format(
            source, " ".join("[{0}] {1}".format(item.code, item.message) for item in report.errors)),
            findings=[item.to_dict() for item in report.findings])
    acs = [service for service in report.acs_services if service["binding"].endswith("HTTP-POST")] or \
        report.acs_services
    ordered = sorted(acs, key=lambda service: (not service.get("is_default"), service.get("index") or 0))
    urls = _unique([service["location"] for service in ordered])
    regions_by_url = {item["location"]: item["region"] for item in report.identity_center.get("acs_urls", [])}
    warnings = [item.message for item in report.findings if item.severity != "error"]
    return ServiceProvider(report.entity_id or "", urls, [regions_by_url.get(url, "") for url in urls],
                           warnings=warnings)


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value.strip(), None)
    return list(seen)


def rest_client(module, base_url: str, *, auth=None, error_parser=None, allow_http: bool = False, **kwargs: Any):
    """A RestClient with the task's connection options; its secrets become the module's no_log values."""
    _deps.require(module, "requests")
    from .._http.client import RestClient  # pylint: disable=import-outside-toplevel
    from .._http.errors import HttpError  # pylint: disable=import-outside-toplevel

    params = module.params
    for name in ("timeout", "deadline"):
        if params[name] <= 0:
            module.fail_json(msg="{0} must be a positive number of seconds, got {1}.".format(name, params[name]))
    options = dict(auth=auth, timeout=params["timeout"], deadline=params["deadline"],
                   validate_certs=params["validate_certs"], ca_path=params["ca_path"], allow_http=allow_http,
                   log=module.log if module._verbosity >= 3 else module.debug,  # pylint: disable=protected-access
                   on_secret=module.no_log_values.add, **kwargs)
    if error_parser is not None:
        options["error_parser"] = error_parser
    try:
        return RestClient(base_url, **options)
    except HttpError as exc:
        module.fail_json(msg=str(exc))
        raise  # not reached: fail_json exits


def fail_api(module, error: Exception, doing: str, client=None, **extra: Any) -> None:
    """Fail the task on an ApiError (or HttpError): what was being done, the vendor's message, the request id."""
    details = error.to_dict() if hasattr(error, "to_dict") else {}
    message = "{0}: {1}".format(doing, error)
    if client is not None:
        message, details = client.mask(message), client.redact(details)
    module.fail_json(msg=message, error=details, **extra)


def call_or_fail(module, doing: str, function: Callable[..., Any], *args: Any, client=None, **kwargs: Any) -> Any:
    """function(*args, **kwargs), or fail the task with fail_api on an HTTP failure."""
    from .._http.errors import HttpError  # pylint: disable=import-outside-toplevel

    try:
        return function(*args, **kwargs)
    except HttpError as error:
        fail_api(module, error, doing, client=client)
        raise  # not reached: fail_json exits
