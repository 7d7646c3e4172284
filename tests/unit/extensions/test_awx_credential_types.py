# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential types of extensions/awx/credential_types/ inject what the modules and the role read:
every environment variable is an env fallback of the vendor's module, every extra variable an option of the role
identity_center_federation, and every injector only uses declared inputs. A vendor whose module does not exist yet
is skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml


def collection_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "galaxy.yml").is_file():
            return parent
    raise AssertionError("galaxy.yml not found above " + __file__)


ROOT = collection_root()
TYPES = ROOT / "extensions" / "awx" / "credential_types"
# credential type file -> (module that reads the environment, its vendor client in module_utils/_idp)
MODULES = {
    "zitadel": ("zitadel_saml_app", "zitadel"),
    "cloudflare": ("cloudflare_access_saas_app", "cloudflare"),
    "lemonldap": ("lemonldap_saml_sp", "lemonldap"),
}
ENV_FALLBACK = re.compile(r"env_fallback\s*,\s*\[([^\]]*)\]")
CONSTANT = re.compile(r"^([A-Z][A-Z0-9_]*)\s*=\s*[\"']([A-Z][A-Z0-9_]+)[\"']", re.MULTILINE)
TEMPLATE_NAME = re.compile(r"\{\{\s*(?:tower\.filename\.)?([a-z_]+)\s*\}\}")


def load(name: str) -> dict:
    return yaml.safe_load((TYPES / (name + ".yml")).read_text(encoding="utf-8"))


def env_fallbacks(module: str, vendor: str) -> set[str]:
    """The environment variables of every env_fallback in the module's source: quoted names, or constants
    (cf.TOKEN_ENV) resolved from the module and its vendor client in module_utils/_idp."""
    sources = [path.read_text(encoding="utf-8") for path in (
        ROOT / "plugins" / "modules" / (module + ".py"),
        ROOT / "plugins" / "module_utils" / "_idp" / (vendor + ".py")) if path.is_file()]
    constants = {name: value for text in sources for name, value in CONSTANT.findall(text)}
    names: set[str] = set()
    for match in ENV_FALLBACK.finditer(sources[0]):
        for item in (part.strip() for part in match.group(1).split(",")):
            quoted = re.fullmatch(r"[\"']([A-Z][A-Z0-9_]+)[\"']", item)
            if quoted:
                names.add(quoted.group(1))
            elif item.split(".")[-1] in constants:
                names.add(constants[item.split(".")[-1]])
    return names


def all_types() -> list[str]:
    return sorted(path.stem for path in TYPES.glob("*.yml"))


def test_every_vendor_has_a_type():
    assert set(MODULES) | {"keycloak"} <= set(all_types())


@pytest.mark.parametrize("name", sorted(MODULES))
def test_env_injectors_are_module_env_fallbacks(name):
    module, vendor = MODULES[name]
    if not (ROOT / "plugins" / "modules" / (module + ".py")).is_file():
        pytest.skip("{0} is not written yet".format(module))
    injected = set(load(name)["injectors"].get("env", {}))
    read = env_fallbacks(module, vendor)
    assert injected, name
    assert injected <= read, "{0} injects {1}, which {2} does not read (it reads {3})".format(
        name, sorted(injected - read), module, sorted(read))


def test_keycloak_extra_vars_are_role_options():
    spec = yaml.safe_load((ROOT / "roles" / "identity_center_federation" / "meta" / "argument_specs.yml").read_text())
    options = set(spec["argument_specs"]["main"]["options"])
    injected = set(load("keycloak")["injectors"]["extra_vars"])
    assert injected and injected <= options, sorted(injected - options)
    assert not load("keycloak")["injectors"].get("env"), "keycloak_client reads no environment variable"


@pytest.mark.parametrize("name", all_types())
def test_injectors_use_declared_inputs(name):
    definition = load(name)
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    assert set(definition["inputs"].get("required", [])) <= set(fields)
    injectors = definition["injectors"]
    templates = list(injectors.get("env", {}).values()) + list(injectors.get("extra_vars", {}).values())
    templates += list(injectors.get("file", {}).values())
    for template in templates:
        for used in TEMPLATE_NAME.findall(template):
            assert used in fields, "{0}: {1} is not an input".format(name, used)
    for file_key in injectors.get("file", {}):
        assert file_key.startswith("template.") and file_key[len("template."):] in fields


@pytest.mark.parametrize("name", all_types())
def test_secrets_are_marked_secret(name):
    for field in load(name)["inputs"]["fields"]:
        if re.search(r"token|password|secret|key$", field["id"]):
            assert field.get("secret") is True, "{0}: {1} must be secret".format(name, field["id"])
