# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A faithful local AWS back end for tests: moto 5.2.5 in server mode plus a plug-in for what it lacks.

- ``launcher.MotoServer``: starts ``python -m moto_ext.server`` as a subprocess (the tests' entry point);
- ``server``: the server; ``app``: the WSGI layer in front of moto (control endpoints, fault layer,
  request log, validation against botocore's model); ``ssoadmin`` and ``identitystore``: the operations
  moto lacks or gets wrong; ``control``, ``faults``, ``validation``, ``protocol``, ``core``: their parts.

Only ``launcher`` is for the test process; the rest imports moto and runs in the server.
"""
