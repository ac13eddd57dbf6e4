from __future__ import annotations

import pytest

import ortbind
from support import models


@pytest.fixture(scope="session")
def add_session() -> ortbind.Session:
    return ortbind.Session(models.add())


@pytest.fixture(scope="session")
def identity_session() -> ortbind.Session:
    return ortbind.Session(models.identity())
