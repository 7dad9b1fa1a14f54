# SPDX-License-Identifier: GPL-2.0
"""The package as pip installed it (make: pip install --no-index
--no-build-isolation of the wheel into build/python/site) works on its
own, without the source tree, and ships its type information."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from conftest import TOP

SITE = os.path.join(TOP, "build", "python", "site")


def test_installed_package_works_without_the_tree():
    if not os.path.isdir(SITE):
        pytest.skip("no build/python/site: run make")
    pkg = os.path.join(SITE, "ctxfd")
    # Imported from there under another name, next to the tree's ctxfd
    # (an interpreter start costs seconds in the VM).
    spec = importlib.util.spec_from_file_location(
        "ctxfd_installed", os.path.join(pkg, "__init__.py"), submodule_search_locations=[pkg])
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ctxfd_installed"] = mod
    try:
        spec.loader.exec_module(mod)
        assert os.path.dirname(mod.__file__) == pkg
        assert sys.modules["ctxfd_installed._context"].__file__.startswith(pkg)
        with mod.with_timeout(mod.background(), 0) as c:
            assert isinstance(c.err, mod.DeadlineExceeded)
        assert os.path.exists(os.path.join(pkg, "py.typed"))
        with open(os.path.join(SITE, "ctxfd-1.0.0.dist-info", "METADATA")) as f:
            assert "Name: ctxfd" in f.read()
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "ctxfd_installed"]:
            del sys.modules[name]
