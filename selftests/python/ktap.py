# SPDX-License-Identifier: GPL-2.0
"""A pytest plugin that reports like a kselftest program: TAP lines and
a "# Totals:" line, which tools/run-tests adds to the suite's totals.

Loaded with -p ktap (and -p no:terminal: this is the only output).
"""

from __future__ import annotations

import sys
import time
from typing import Dict, List

import pytest

_reports: Dict[str, List[pytest.TestReport]] = {}
_totals = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
_n = 0
_t0 = time.monotonic()


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _name(nodeid: str) -> str:
    return nodeid.split("/")[-1].replace(".py::", ".").replace("::", ".")


@pytest.hookimpl
def pytest_addoption(parser: pytest.Parser) -> None:
    # Without the terminal plugin, its "verbose" option is missing, and
    # pytest's assertion messages ask for it.
    try:
        parser.addoption("--verbose", action="count", dest="verbose", default=0)
    except ValueError:
        pass  # the terminal plugin is loaded after all


@pytest.hookimpl
def pytest_collection_finish(session: pytest.Session) -> None:
    _out("TAP version 13")
    _out(f"# pytest started and collected in {time.monotonic() - _t0:.1f}s")
    _out(f"1..{len(session.items)}")


@pytest.hookimpl
def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _totals["error"] += 1
        _out(f"# collection error in {report.nodeid}:")
        for line in str(report.longrepr).splitlines():
            _out(f"#   {line}")


@pytest.hookimpl
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _reports.setdefault(report.nodeid, []).append(report)


@pytest.hookimpl
def pytest_runtest_logfinish(nodeid: str) -> None:
    global _n
    _n += 1
    reports = _reports.pop(nodeid, [])
    name = _name(nodeid)
    failed = [r for r in reports if r.failed]
    skipped = [r for r in reports if r.skipped]
    secs = sum(r.duration for r in reports)
    if failed:
        _totals["fail"] += 1
        _out(f"# FAIL {name} ({secs:.2f}s)")
        for r in failed:
            for line in r.longreprtext.splitlines():
                _out(f"#   {line}")
            for title, text in r.sections:
                _out(f"#   --- {title}")
                for line in text.splitlines():
                    _out(f"#   {line}")
        _out(f"not ok {_n} {name}")
    elif skipped:
        _totals["skip"] += 1
        longrepr = skipped[0].longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        _out(f"ok {_n} {name} # SKIP {reason}")
    else:
        _totals["pass"] += 1
        _out(f"ok {_n} {name} # {secs:.2f}s")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    t = _totals
    _out(f"# pytest done {time.monotonic() - _t0:.1f}s after its plugin was loaded")
    if exitstatus not in (0, 1, 5) and not t["fail"]:
        t["error"] += 1  # interrupted, internal error, usage error
    _out(f"# Totals: pass:{t['pass']} fail:{t['fail']} xfail:0 xpass:0 "
         f"skip:{t['skip']} error:{t['error']}")
