# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

The Identity Center instance option of every module that works on an instance."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  instance_arn:
    description:
      - ARN of the IAM Identity Center instance, C(arn:aws:sso:::instance/ssoins-...).
      - When omitted, the only instance visible in the account and Region is used; the module fails, naming every
        instance it sees, when there are several, and says how to enable Identity Center when there is none.
    type: str
notes:
  - Identity Center APIs are called in the instance's primary Region (set O(region)); they are throttled at about
    20 requests a second per account. Throttled calls (C(ThrottlingException)) are retried with jittered backoff.
"""
