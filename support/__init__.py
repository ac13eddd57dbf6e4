"""Code that the tests and the benchmark suite share, so that neither imports the other: the models
they build (``from support import models``, with the repository root on sys.path), the real models
shipped in PyPI wheels (``real_models``) and the conformance runner over ONNX's test cases
(``conformance``), which the tests drive."""
