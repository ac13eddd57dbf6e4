"""Outputs that go to other frameworks without a copy, whatever their element type.

numpy exports the dtypes it has through DLPack itself, so ``torch.from_dlpack(result["y"])`` shares
a float32 output's buffer. It refuses the ml_dtypes types that hold bfloat16 and the float8 types,
so outputs of those are :class:`DLPackArray`: a numpy array that adds the export and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np

from . import _core

if TYPE_CHECKING:
    from typing_extensions import CapsuleType

_CPU: Final = 1  # DLPack's kDLCPU


class DLPackArray(np.ndarray[Any, Any]):
    """A numpy array that exports itself through DLPack, bfloat16 and float8 included.

    Outputs of ml_dtypes' element types (bfloat16, the float8 types) are of this class, so that
    ``torch.from_dlpack(result["y"])`` (or any framework's ``from_dlpack``) views the output's own
    buffer, as it does for numpy's dtypes. Everything numpy does with it is what it does with any
    array; views and results of numpy operations keep the class. The consumer's tensor keeps the
    array, and so the buffer, alive for as long as it needs it.
    """

    def __dlpack__(
        self,
        /,
        *,
        stream: int | Any | None = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> CapsuleType:
        if stream is not None:
            raise BufferError(f"an array in CPU memory is exported with stream=None, not {stream!r}")
        if dl_device is not None and tuple(dl_device) != (_CPU, 0):
            raise BufferError(f"ortbind exports arrays in CPU memory only, not to DLPack device {tuple(dl_device)}")
        versioned = max_version is not None and max_version[0] >= 1
        if copy:
            return _core._dlpack_capsule(np.array(self, copy=True), versioned, True)
        return _core._dlpack_capsule(self, versioned, False)

    def __dlpack_device__(self, /) -> tuple[Literal[1], Literal[0]]:
        return (_CPU, 0)
