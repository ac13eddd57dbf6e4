"""Child program, run by the python of a fresh venv where ortbind was installed from dist/ (the
wheel or the sdist), with numpy and onnxruntime from the index and nothing of this repository on
sys.path: it must not import ``tests``, nor anything the venv does not hold.

Runs MODEL (input ``x``, output ``probs``) on INPUT.npy and saves the output to OUTPUT.npy for the
test to compare with the official binding's. On the way it takes the paths a toolchain can break:
runs from several threads (the GIL released around each), ``run_async`` (the result handed back on
ONNX Runtime's own thread), C++ exceptions thrown inside ``_core`` and translated into the
``ortbind.Error`` classes, and a fork (the pthread_atfork handlers). Prints the file ortbind was
imported from and the ONNX Runtime library it loaded, one a line.

Usage: installed_package.py MODEL INPUT.npy OUTPUT.npy
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

import ortbind
from ortbind import errors


def expect(error: type[ortbind.Error], builtin: type[Exception], call: Callable[[], Any]) -> None:
    try:
        call()
    except error as e:
        assert isinstance(e, builtin), type(e).__mro__
        return
    raise AssertionError(f"no {error.__name__} raised")


def forked_run_is_refused(session: ortbind.Session, x: np.ndarray) -> bool:
    pid = os.fork()
    if pid == 0:
        try:
            session.run({"x": x})
        except ortbind.ClosedError:
            os._exit(0)
        except BaseException:
            os._exit(2)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def main() -> None:
    model, input_path, output_path = sys.argv[1:]
    x = np.load(input_path)
    with ortbind.Session(model) as session:
        probs = session.run({"x": x}).extract("probs", np.float32)
        np.save(output_path, probs)

        with ThreadPoolExecutor(4) as pool:
            for other in pool.map(lambda _: session.run({"x": x})["probs"], range(8)):
                assert np.array_equal(other, probs)
        assert np.array_equal(asyncio.run(session.run_async({"x": x}))["probs"], probs)

        expect(ortbind.DTypeError, TypeError, lambda: session.run({"x": x.astype(np.float64)}))
        expect(ortbind.ShapeError, ValueError, lambda: session.run({"x": x[:, :3]}))
        expect(errors.NoSuchFile, FileNotFoundError, lambda: ortbind.Session(model + ".missing"))
        expect(errors.InvalidProtobuf, ValueError, lambda: ortbind.Session(b"not a model"))
        assert forked_run_is_refused(session, x)
    expect(ortbind.ClosedError, ValueError, lambda: session.run({"x": x}))
    print(ortbind.__file__)
    print(ortbind.runtime.RUNTIME_PATH)


if __name__ == "__main__":
    main()
