"""ONNX Runtime's log in Python's ``logging``, as the logger ``ortbind.onnxruntime``.

The runtime logs from any thread, its own pool threads included; ``_core`` only queues those
records there, since such a thread may not take the GIL. A daemon thread of ortbind's waits for them
(the GIL released while it waits) and emits each through the logger, with ONNX Runtime's severity
mapped to a logging level and its category, log id and code location as ``record.ort_category``,
``record.ort_log_id`` and ``record.ort_location``. Which records are made at all is the ``Env``'s
``log_level`` (``warning`` by default, as before: with no logging configured, Python prints
warnings and errors to stderr); a run's ``log_level=`` lowers it for that run.
"""

from __future__ import annotations

import logging
import os
import threading

from . import _core

logger = logging.getLogger("ortbind.onnxruntime")

LEVELS = {
    "verbose": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}

# Taking records and emitting them hold this lock together, so that once flush() has it, every record
# taken before is emitted, and records from the thread and from flush() never interleave.
_emit_lock = threading.Lock()
_dropped_reported = 0


def flush() -> None:
    global _dropped_reported
    with _emit_lock:
        for severity, category, log_id, location, message in _core._take_log_records():
            logger.log(
                LEVELS.get(severity, logging.WARNING),
                "%s",
                message,
                extra={"ort_category": category, "ort_log_id": log_id, "ort_location": location},
            )
        dropped = _core._dropped_log_records()
        if dropped > _dropped_reported:
            logger.warning("%d ONNX Runtime log records were dropped (nothing read them)", dropped - _dropped_reported)
            _dropped_reported = dropped


def _drain() -> None:
    # Ends at interpreter exit: the exit hook closes the queue.
    while not _core._log_queue_closed():
        if _core._wait_for_log_records(1.0):
            flush()


def _start() -> None:
    threading.Thread(target=_drain, name="ortbind-onnxruntime-log", daemon=True).start()


_start()
# fork copies only the forking thread: the child starts a reader of its own.
os.register_at_fork(after_in_child=_start)
