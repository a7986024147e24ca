"""One way to run many independent fits in parallel: ``dask.distributed``.

By default a local cluster with one single-threaded worker process per core;
given an address, the same tasks go to an existing Dask cluster instead.
Every fit is a pure function of its arguments, so the tasks are independent
and their results do not depend on where they ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any


def run_tasks(
    func: Callable[..., Any],
    tasks: Iterable[tuple[Any, ...]],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """Run ``func(*args)`` for every ``args`` in ``tasks``; results in task order.

    Parameters
    ----------
    func
        A picklable top-level function.
    tasks
        Argument tuples.
    scheduler
        Address of an existing Dask scheduler; ``None`` starts a local cluster.
    workers
        Worker processes of the local cluster (default: the machine's cores).
    progress
        Called with (done, total) as results arrive.
    """
    from dask.distributed import Client, LocalCluster, as_completed

    tasks = list(tasks)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    client = Client(scheduler or cluster)
    try:
        futures = [client.submit(func, *args, pure=False) for args in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        for done, fut in enumerate(as_completed(futures), start=1):
            results[index[fut.key]] = fut.result()
            if progress:
                progress(done, len(futures))
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
