"""Child programs: each runs in a fresh interpreter (``tests.helpers.run_child``), so that a crash,
a signal, an import-time failure or a peak-memory measurement stays out of the test process.

Each is a plain script with a ``main()``; its arguments come through ``sys.argv``. To run one by
hand, from the repository root: ``PYTHONPATH=. .venv/bin/python tests/children/NAME.py ARGS``.
"""
