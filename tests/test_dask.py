"""Batch inference on a real distributed engine: a dask.distributed LocalCluster with two worker
processes, over a dask.array (map_blocks) and a dask.dataframe (map_partitions). Each worker builds
the session once; the results equal a single-process run. (docs/guide/async.md: "Dask".)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pytest

import ortbind
from support import models

if TYPE_CHECKING:
    from distributed import Client
    from pandas import DataFrame

MISSING = (
    "needs the dask extra (dask, distributed, pandas); not installed for free-threaded CPython, where "
    "distributed's msgpack, pyyaml and tornado have no free-threaded wheel"
)
dask = pytest.importorskip("dask", reason=MISSING)
distributed = pytest.importorskip("distributed", reason=MISSING)
pd = pytest.importorskip("pandas", reason=MISSING)

import dask.array as da  # noqa: E402
import dask.dataframe as dd  # noqa: E402


def _probs(block: np.ndarray, session: ortbind.Session) -> np.ndarray:
    return session.run({"x": np.ascontiguousarray(block, dtype=np.float32)})["probs"]


def _partition(frame: DataFrame, session: ortbind.Session) -> DataFrame:
    probs = session.run({"x": frame.to_numpy(dtype=np.float32)})["probs"]
    return pd.DataFrame({"label": probs.argmax(axis=1), "confidence": probs.max(axis=1)}, index=frame.index)


def _built() -> int:
    from ortbind import _pickle

    return _pickle.sessions_built()


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_map_blocks_and_map_partitions(client: Client) -> None:
    session = ortbind.Session(models.mlp(), intra_op_threads=1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4000, 64)).astype(np.float32)
    expected = session.run({"x": x})["probs"]

    array = da.from_array(x, chunks=(500, 64))
    probs = array.map_blocks(_probs, session, chunks=(500, 10), dtype=np.float32).compute()
    np.testing.assert_array_equal(probs, expected)

    frame = dd.from_pandas(pd.DataFrame(x, columns=[f"f{i}" for i in range(64)]), npartitions=8)
    meta = pd.DataFrame({"label": pd.Series(dtype=np.int64), "confidence": pd.Series(dtype=np.float32)})
    scored = frame.map_partitions(_partition, session, meta=meta).compute()
    np.testing.assert_array_equal(scored["label"].to_numpy(), expected.argmax(axis=1))
    np.testing.assert_array_equal(scored["confidence"].to_numpy(), expected.max(axis=1))

    built = client.run(_built)
    assert len(built) == 2 and all(count == 1 for count in built.values()), built
