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
export IDFED_SHARED_DIR := $(SHARED)
export ANSIBLE_COLLECTIONS_PATH := $(TREE)
export ANSIBLE_NOCOLOR := 1
ANSIBLE_TEST := cd $(COLLECTION) && $(BIN)/ansible-test
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(CURDIR)/build/dist/idfed-aws_sso-$(VERSION).tar.gz

.PHONY: help venv tree sanity units integration molecule lint docs-check changelog-lint importer test demo bench clean

help:
	@echo "make demo   validate a locally served IdP metadata URL and an Identity Center SP file"
	@echo "make test   venv, sanity, units, integration, molecule, lint, docs, changelog, galaxy-importer"
	@echo "make bench  parse/validate/signature speed and memory against pysaml2, python3-saml, xmlsec1"

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

molecule: tree
	cd $(COLLECTION) && for scenario in extensions/molecule/*/molecule.yml; do \
	  name=$$(basename $$(dirname $$scenario)); \
	  (cd extensions && PATH=$(BIN):$$PATH $(BIN)/molecule test -s $$name); \
	done

lint: tree
	cd $(COLLECTION) && PATH=$(BIN):$$PATH $(BIN)/ansible-lint

docs-check: tree
	for module in $$(ls plugins/modules/*.py | xargs -n1 basename | sed 's/\.py$$//'); do \
	  $(BIN)/ansible-doc -t module idfed.aws_sso.$$module >/dev/null; done
	for role in $$(ls -d roles/*/ 2>/dev/null | xargs -r -n1 basename); do \
	  $(BIN)/ansible-doc -t role idfed.aws_sso.$$role >/dev/null; done
	cd $(COLLECTION) && $(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

$(IMPORTER_VENV)/.installed: requirements-importer.txt
	test -x $(IMPORTER_VENV)/bin/python || $(PYTHON) -m venv $(IMPORTER_VENV)
	$(IMPORTER_VENV)/bin/python -m pip install --quiet -r requirements-importer.txt
	touch $@

importer: tree $(IMPORTER_VENV)/.installed
	rm -rf build/dist && mkdir -p build/dist
	cd $(COLLECTION) && $(BIN)/ansible-galaxy collection build --force --output-path $(CURDIR)/build/dist >/dev/null
	cd build/dist && GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy-importer.cfg \
	  $(IMPORTER_VENV)/bin/python -m galaxy_importer.main $(TARBALL) 2>&1 | tee importer.log
	@! grep -E '^(ERROR|CRITICAL)|ImporterError' build/dist/importer.log

test: venv tree sanity units integration molecule lint docs-check changelog-lint importer
	@echo "make test: all green"

demo: tree
	PATH=$(BIN):$$PATH scripts/demo.sh

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf build tests/output .ansible
