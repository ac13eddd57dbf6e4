from __future__ import annotations

import os
import sys

import pytest

import ortbind
from support import models
from tests.helpers import FREE_THREADED

# On a free-threaded CPython the suite runs without the GIL or not at all: an extension module that
# does not declare that it runs without it turns the GIL back on when it is imported, and the suite
# would pass with the GIL, proving nothing. So the run stops at once if the GIL is on after
# import ortbind, and fails at its end if a module imported by a test turned it on.
# ORTBIND_FT_ALLOW_GIL=1 (`make test-ft FT_ALLOW_GIL=1`) runs it anyway, to see the rest work there.
GIL_ALLOWED = os.environ.get("ORTBIND_FT_ALLOW_GIL") == "1"


def gil_enabled() -> bool:
    return bool(getattr(sys, "_is_gil_enabled", lambda: True)())


GIL_AFTER_IMPORT = gil_enabled()


def pytest_report_header() -> str | None:
    if not FREE_THREADED:
        return None
    state = "enabled" if GIL_AFTER_IMPORT else "disabled"
    allowed = " (allowed by ORTBIND_FT_ALLOW_GIL=1)" if GIL_AFTER_IMPORT and GIL_ALLOWED else ""
    return f"free-threaded CPython: the GIL is {state} after import ortbind{allowed}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if FREE_THREADED and GIL_AFTER_IMPORT and not GIL_ALLOWED:
        pytest.exit(
            f"free-threaded CPython, but the GIL is enabled after import ortbind ({ortbind.__file__}): a "
            "module imported so far does not declare that it runs without the GIL, or PYTHON_GIL=1 is set. "
            "ORTBIND_FT_ALLOW_GIL=1 runs the suite anyway.",
            returncode=3,
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    if FREE_THREADED and not GIL_AFTER_IMPORT and gil_enabled() and not GIL_ALLOWED:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "free-threaded CPython: a module imported during the run turned the GIL on, so the tests "
                "after it ran with the GIL",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def add_session() -> ortbind.Session:
    return ortbind.Session(models.add())


@pytest.fixture(scope="session")
def identity_session() -> ortbind.Session:
    return ortbind.Session(models.identity())
