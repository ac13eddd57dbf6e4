"""The benchmark harness that ``ortbind bench`` and the repository's benchmark suite share.

``harness`` times contenders in rotation (warm-up, blocks of calls each timed alone, round-by-round
ratios); ``contenders`` defines the ways to run a model that every benchmark compares (ortbind's,
the official binding's, the C++ floors'); ``floor`` builds and drives the C++ floor; ``profile``
reads ONNX Runtime's profiler output; ``machine`` records where the numbers were taken.

Internal: the command line and the suite are its users, its names may change.
"""
