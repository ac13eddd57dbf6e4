"""Programs that show ortbind in use; each runs with ``python -m examples.<name>``."""
