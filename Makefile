# idfed.aws_sso: every entry point works from a fresh clone (with ../shared beside it for the corpus).
#   make demo   run the main job on the local stack
#   make test   everything CI runs
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= $(CURDIR)/.venv
IMPORTER_VENV ?= $(CURDIR)/.venv-importer
TREE ?= $(CURDIR)/build/collections
COLLECTION := $(TREE)/ansible_collections/idfed/aws_sso
SHARED ?= $(abspath $(CURDIR)/../shared)
BIN := $(VENV)/bin
# The venv's tools (ansible-config, ansible-galaxy, ...) must be on PATH for molecule, ansible-lint and
# antsibull-docs. Unit tests find the corpus through IDFED_SHARED_DIR when run with plain pytest;
# ansible-test filters the environment, and in the tree they find ../shared by walking up from the copy.
export PATH := $(BIN):$(PATH)
export IDFED_SHARED_DIR := $(SHARED)
export ANSIBLE_COLLECTIONS_PATH := $(TREE)
export ANSIBLE_NOCOLOR := 1
export NO_COLOR := 1
# pyenv's shims find their root through HOME: keep the real one.
ifeq ($(origin PYENV_ROOT),undefined)
export PYENV_ROOT := $(HOME)/.pyenv
endif
# Everything the tools keep under ~ (ansible-test's caches and venvs, pip's cache, Molecule's and
# ansible-lint's state) stays in the checkout: make writes nothing outside it but what a target names.
export HOME := $(CURDIR)/build/home
ANSIBLE_TEST := cd $(COLLECTION) && $(BIN)/ansible-test
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(CURDIR)/build/dist/idfed-aws_sso-$(VERSION).tar.gz

.PHONY: help system-deps venv tree sanity units integration molecule lint docs-check changelog-lint dist ee importer test demo bench clean demo-clean

help:
	@echo "make demo   the whole federation on the local stack (moto, LemonLDAP::NG, an Identity Center stand-in), then a SAML login"
	@echo "make test   venv, sanity, units, integration, molecule, lint, docs, changelog, galaxy-importer"
	@echo "make bench  speed and memory next to the peers (SECTION=metadata, startup, aws or idp: one section; none: all)"

# Debian packages (xmlsec1 for pysaml2, shellcheck for sanity, ...): installed when missing.
system-deps:
	PYTHON=$(PYTHON) scripts/system-deps.sh

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed
	@# ansible-test downloads get-pip for each venv it makes; offline, use the stand-in.
	mkdir -p $(HOME)/.ansible/test/cache
	cp scripts/get_pip_standin.py $(HOME)/.ansible/test/cache/get_pip_24_2.py

tree: venv
	PYTHON=$(BIN)/python scripts/build-tree.sh $(TREE) >/dev/null

sanity: tree
	$(ANSIBLE_TEST) sanity --python 3.11 --local

units: tree
	$(ANSIBLE_TEST) units --python 3.11 --local --num-workers 2

integration: tree
	$(ANSIBLE_TEST) integration --python 3.11 --local

# Molecule reads extensions/molecule/ (merged over its config.yml) only from the collection root, and
# finds idfed.aws_sso and amazon.aws in the tree through ANSIBLE_COLLECTIONS_PATH.
molecule: tree
	@if ! ls extensions/molecule/*/molecule.yml >/dev/null 2>&1; then echo 'molecule: no scenarios'; exit 0; fi; \
	cd $(COLLECTION) && $(BIN)/molecule test --all

lint: tree
	cd $(COLLECTION) && $(BIN)/ansible-lint

# ansible-doc exits 0 with only a warning for a plugin or role it cannot find: any warning fails here.
docs-check: tree
	@for item in $$(ls plugins/modules/*.py | xargs -n1 basename | grep -vx '__init__.py' | sed 's/\.py$$//;s/^/module:/') \
	             $$(ls -d roles/*/ 2>/dev/null | xargs -r -n1 basename | sed 's/^/role:/'); do \
	  echo "ansible-doc -t $${item%%:*} idfed.aws_sso.$${item#*:}"; \
	  out=$$($(BIN)/ansible-doc -t $${item%%:*} idfed.aws_sso.$${item#*:} 2>&1) || { echo "$$out"; exit 1; }; \
	  if grep -q '^\[\(WARNING\|ERROR\)\]' <<<"$$out"; then echo "$$out"; exit 1; fi; \
	done
	@# antsibull-docs copies the collection and amazon.aws with `git ls-files` when it finds them inside a Git work
	@# tree (the checkout): none of the tree is tracked, so it would copy nothing. The ceiling makes it copy files.
	cd $(COLLECTION) && GIT_CEILING_DIRECTORIES=$(CURDIR) $(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

$(IMPORTER_VENV)/.installed: requirements-importer.txt
	test -x $(IMPORTER_VENV)/bin/python || $(PYTHON) -m venv $(IMPORTER_VENV)
	$(IMPORTER_VENV)/bin/python -m pip install --quiet -r requirements-importer.txt
	touch $@

dist: tree
	rm -rf build/dist && mkdir -p build/dist
	cd $(COLLECTION) && $(BIN)/ansible-galaxy collection build --force --output-path $(CURDIR)/build/dist >/dev/null

# The execution environment's build context (no container engine needed; build it with podman/docker).
ee: dist
	$(BIN)/ansible-builder create -f execution-environment.yml -c build/ee --output-filename Containerfile >/dev/null
	test -f build/ee/_build/idfed/idfed-aws_sso-$(VERSION).tar.gz

importer: dist $(IMPORTER_VENV)/.installed
	@# galaxy-importer runs the ansible-doc and ansible-lint it finds on PATH: its own venv's. It logs lint
	@# violations, a missing tool or a bad meta/execution-environment.yml only as warnings: they fail here.
	cd build/dist && PATH=$(IMPORTER_VENV)/bin:$$PATH GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy-importer.cfg \
	  $(IMPORTER_VENV)/bin/python -m galaxy_importer.main $(TARBALL) 2>&1 | tee importer.log
	@! grep -E '^(WARNING|ERROR|CRITICAL)|ImporterError' build/dist/importer.log

TEST_STEPS := system-deps venv tree sanity units integration molecule lint docs-check changelog-lint importer ee

# Each step's output is shown and kept in build/logs/<step>.log; the summary says what ran, what was skipped
# and why, and how many failures were expected ones (tasks named "Expected to fail: ...").
test:
	@rm -f build/logs/steps.tsv
	@status=0; for step in $(TEST_STEPS); do \
	  scripts/step.sh $$step $(MAKE) --no-print-directory $$step || { status=$$?; break; }; \
	done; \
	$(BIN)/python scripts/test_summary.py build/logs || true; exit $$status

demo: system-deps tree
	VENV=$(VENV) scripts/demo.sh

demo-clean: venv
	for dir in build/demo /tmp/idfed-aws_sso-demo; do \
	  $(BIN)/python tests/support/local_stack.py down --dir $$dir >/dev/null 2>&1 || true; rm -rf $$dir; \
	done

# One section (bench/README.md) with SECTION=name; the startup section builds its own copy of the tree.
bench: system-deps venv
	$(BIN)/python -m bench $(SECTION)

clean:
	rm -rf build tests/output .ansible
