"""ortbind's test suite. A package so that the child programs import its helpers; the models it
shares with the benchmark suite come from ``support.models`` (with the repository root on sys.path)."""
