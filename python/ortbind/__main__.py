"""``python -m ortbind``: the command line (``ortbind info``, ``check``, ``bench``)."""

from .cli import main

raise SystemExit(main())
