# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python binding (lib/python, package "ctxfd"): pure Python over the
# uapi, for Debian's python3. make builds its wheel and installs it into
# build/python/site with pip, offline (--no-index) and with Debian's
# setuptools (--no-build-isolation), which proves the package installs
# from the tree with no network; the pytest suite runs in the VM as
# build/selftests/python/binding_test. Included by the top Makefile.
#
#   make python           the wheel and its installation in build/python/,
#                         after mypy --strict on the package and examples

PYTHON ?= /usr/bin/python3
PY_DIR := $(BUILD)/python
PY_SRCS := lib/python/pyproject.toml lib/python/README.md $(wildcard lib/python/ctxfd/*)
PY_WHEEL := $(PY_DIR)/dist/ctxfd-1.0.0-py3-none-any.whl

.PHONY: python
python: $(PY_DIR)/mypy.stamp $(PY_DIR)/site.stamp

selftests: $(PY_DIR)/mypy.stamp $(PY_DIR)/site.stamp $(BUILD)/selftests/python/binding_test

# The package is typed (py.typed): check it as its users' mypy would.
$(PY_DIR)/mypy.stamp: $(PY_SRCS) $(wildcard lib/python/examples/*.py)
	@$(PYTHON) -c 'import mypy' 2>/dev/null || { echo "the Python binding's type check needs apt-get install -y python3-mypy" >&2; exit 2; }
	@mkdir -p $(dir $@)
	@echo "  MYPY lib/python"
	@cd lib/python && $(PYTHON) -m mypy --strict --no-error-summary \
		--cache-dir $(TOP)/$(PY_DIR)/mypy-cache ctxfd examples
	@touch $@

# pip builds in the source tree (build/, *.egg-info): build a copy.
$(PY_WHEEL): $(PY_SRCS)
	@$(PYTHON) -c 'import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ("pip", "setuptools", "wheel")))' 2>/dev/null || { echo "the Python binding's build needs apt-get install -y python3-pip python3-setuptools python3-wheel" >&2; exit 2; }
	@rm -rf $(PY_DIR)/src $(PY_DIR)/dist && mkdir -p $(PY_DIR)/src
	@cp -r lib/python/pyproject.toml lib/python/README.md lib/python/ctxfd $(PY_DIR)/src/
	@echo "  PIP WHEEL $@"
	@env -u PIP_FIND_LINKS -u PIP_INDEX_URL PIP_DISABLE_PIP_VERSION_CHECK=1 \
		$(PYTHON) -m pip wheel -q --no-build-isolation --no-index --no-deps \
		-w $(PY_DIR)/dist $(PY_DIR)/src 2>&1 | { grep -v -e _BetaConfiguration -e 'warnings.warn' -e 'Running pip as' || true; }
	@test -f $@

$(PY_DIR)/site.stamp: $(PY_WHEEL)
	@rm -rf $(PY_DIR)/site
	@echo "  PIP INSTALL $(PY_DIR)/site"
	@env -u PIP_FIND_LINKS -u PIP_INDEX_URL PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
		$(PYTHON) -m pip install -q --no-index --no-deps --target $(PY_DIR)/site $<
	@touch $@

$(BUILD)/selftests/python/binding_test: selftests/python/run.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@
