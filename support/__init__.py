"""Code that the tests and the benchmark suite share, so that neither imports the other: the models
they build (``from support import models``, with the repository root on sys.path)."""
