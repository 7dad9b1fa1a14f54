# SPDX-License-Identifier: GPL-2.0
"""The package as pip installed it (make: pip install --no-index
--no-build-isolation of the wheel into build/python/site) works on its
own, without the source tree, and ships its type information."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import PY, TOP

SITE = os.path.join(TOP, "build", "python", "site")

CHECK = """
import os, ctxfd
print(os.path.dirname(ctxfd.__file__))
with ctxfd.with_timeout(ctxfd.background(), 0) as c:
    print(type(c.err).__name__, os.path.exists(os.path.join(os.path.dirname(ctxfd.__file__), "py.typed")))
"""


def test_installed_package_works_without_the_tree():
    if not os.path.isdir(SITE):
        pytest.skip("no build/python/site: run make")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = SITE
    r = subprocess.run([PY, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {SITE!r})\n" + CHECK],
                       env=env, capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr
    where, state = r.stdout.splitlines()
    assert where == os.path.join(SITE, "ctxfd")
    assert state == "DeadlineExceeded True"
    meta = os.path.join(SITE, "ctxfd-1.0.0.dist-info", "METADATA")
    with open(meta) as f:
        assert "Name: ctxfd" in f.read()
