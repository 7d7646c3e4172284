# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

strict mode of the *_info modules: fail listing every error finding, and still return the facts.
"""

from __future__ import annotations

from ._saml.findings import ERROR


def fail_on_errors(module, result: dict) -> None:
    errors = [item for item in result["findings"] if item["severity"] == ERROR]
    if not errors or not module.params["strict"]:
        return
    lines = ["{0} has {1} error(s) (set strict: false to get the facts without failing):".format(
        result["source"], len(errors))]
    lines.extend("{0}: {1}".format(item["code"], item["message"]) for item in errors)
    module.fail_json(msg="\n".join(lines), **result)
