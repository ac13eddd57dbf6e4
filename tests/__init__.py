"""ortbind's test suite. A package so that the benchmark suite and the child programs import the test
models as ``from tests import models`` (with the repository root on sys.path)."""
