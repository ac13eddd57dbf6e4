import os

# numpy's bundled OpenBLAS keeps worker threads that spin after numpy calls; on a small machine they
# take cores from whichever contender runs next. The C++ floor has none, so the Python contenders
# run without them too (set before numpy is imported).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .suite import main

raise SystemExit(main())
