# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

The url/path/content options of the *_info modules and reading the document they name.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from . import _deps
from ._http.redact import url_secrets
from ._saml.constants import DEFAULT_MAX_SIZE

SOURCE_ARGUMENT_SPEC = dict(
    url=dict(type="str"),
    path=dict(type="path"),
    content=dict(type="str"),
    allow_http=dict(type="bool", default=False),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="int", default=30),
    max_redirects=dict(type="int", default=5),
    max_size=dict(type="int", default=DEFAULT_MAX_SIZE),
)
SOURCE_OPTIONS = ("url", "path", "content")


class SourceModule(AnsibleModule):
    """AnsibleModule that knows the secrets of a `url` before it logs its invocation.

    AnsibleModule writes "Invoked with url=..." to the target's journal/syslog from its constructor, masking only
    no_log values: a token in the URL's query must be one by then, or it lands in the log on every run.
    """

    def _log_invocation(self) -> None:
        if self.params.get("url"):
            # Ansible masks no_log values everywhere in the result too, including the invocation shown with -v.
            self.no_log_values.update(url_secrets(self.params["url"]))
        super()._log_invocation()


def _fetch(module) -> tuple[bytes, str]:
    params = module.params
    # Imported here: requests costs about 100 ms of start-up, and only a URL source needs it.
    _deps.require(module, "requests")
    from ._http.fetch import HttpError, fetch  # pylint: disable=import-outside-toplevel
    from ._http.redact import redact_url  # pylint: disable=import-outside-toplevel

    try:
        # Retries go to the target's log (journal/syslog, secrets masked by Ansible too) at -vvv and with debug.
        result = fetch(params["url"], timeout=params["timeout"], validate_certs=params["validate_certs"],
                       ca_path=params["ca_path"], allow_http=params["allow_http"], max_size=params["max_size"],
                       max_redirects=params["max_redirects"],
                       log=module.log if module._verbosity >= 3 else module.debug)
    except HttpError as exc:
        module.fail_json(msg="{0} Check the URL, and that the IdP application exists and publishes it.".format(exc)
                         if exc.status else str(exc), url=redact_url(params["url"]))
    return result.body, result.url


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
        return _fetch(module)
    if params["path"] is not None:
        try:
            with open(params["path"], "rb") as handle:
                data = handle.read(params["max_size"] + 1)
        except OSError as exc:
            module.fail_json(msg="Cannot read {0}: {1}.".format(params["path"], exc.strerror or exc))
        # One byte over max_size is enough for the analysis to report too_large without reading it all.
        return data, params["path"]
    return params["content"].encode("utf-8"), "content"
