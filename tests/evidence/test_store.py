"""Two processes on one store: the second waits for the first's lock or gives up; none is lost."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from model.evidence.data import load_actors, read_observations
from model.evidence.store import Publication, Source, Store, split_new
from tests.conftest import ACTORS, OBSERVATIONS, ROOT
from tests.fakes import fake_summary

#: A file of the shipped evidence: `axis update` finds every row stored and fits nothing.
SHIPPED_ROWS = 5


def _duplicates(tmp_path: Path) -> Path:
    lines = OBSERVATIONS.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "again.csv"
    path.write_text("\n".join(lines[: SHIPPED_ROWS + 1]) + "\n", encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "400"}


def _hold_lock(ledger: Path) -> subprocess.Popen:
    """Another process that takes the store's lock, says so, and keeps it until told."""
    code = (
        "import sys\n"
        "from model.evidence.store import Store\n"
        f"with Store({str(ledger)!r}).locked():\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.readline()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def _update(tmp_path: Path, *args: str) -> subprocess.Popen:
    """`axis update` on the store in tmp_path, as its own process."""
    ledger = tmp_path / "store" / "axis.sqlite"
    cmd = [sys.executable, "-m", "model.cli", "update", *args, "--ledger", str(ledger)]
    return subprocess.Popen(
        [*cmd, "--runs", str(tmp_path / "runs")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


WAITING = "waiting for another axis process that holds the store lock"


def test_update_waits_for_another_process_holding_the_store_lock(tmp_path):
    """Through `axis update`'s own lock: it says it waits, waits, then goes on."""
    ledger = tmp_path / "store" / "axis.sqlite"
    holder = _hold_lock(ledger)
    update = _update(tmp_path, str(_duplicates(tmp_path)), "--lock-timeout", "120")
    try:
        assert update.stderr is not None
        said = update.stderr.readline()  # blocks until the update reaches the lock
        assert said.strip() == f"{WAITING} {Store(ledger).lock_path}..."
        time.sleep(0.5)
        assert update.poll() is None, "the update went on while the lock was held"
    finally:
        holder.communicate("\n", timeout=30)  # release
    out, err = update.communicate(timeout=120)
    assert update.returncode == 0, err
    assert out.count("is already in the store\n") == SHIPPED_ROWS and "Nothing new" in out


def test_update_gives_up_after_the_lock_timeout_and_writes_nothing(tmp_path):
    ledger = tmp_path / "store" / "axis.sqlite"
    holder = _hold_lock(ledger)
    try:
        out, err = _update(
            tmp_path, str(_duplicates(tmp_path)), "--lock-timeout", "0.5"
        ).communicate(timeout=120)
    finally:
        holder.communicate("\n", timeout=30)
    said = " ".join(err.split())
    lock = Store(ledger).lock_path
    assert f"{WAITING} {lock}..." in said, err
    assert f"error: another axis process has held the store lock {lock} for more than 0.5 s" in said
    assert "nothing was written" in said and out == ""
    assert not ledger.exists() and not (tmp_path / "runs").exists()


# ---------------------------------------- the locked section itself, with a fake fit


def _publish_new_rows(ledger: str, start: Any, read: Any | None, results: Any) -> None:
    """What an update does to the store: read, decide what is new, "fit", publish.

    Under the lock (``read`` is None) the "fit" is a second's sleep; without
    it, a barrier that both processes pass once both have read the store, so
    that the collision the lock prevents happens every time.
    """
    store = Store(ledger)
    frame = read_observations(OBSERVATIONS, load_actors(ACTORS)).head(4)
    start.wait()
    try:
        if read is None:
            with store.locked(timeout=60):
                results.put(_read_fit_publish(store, frame, None))
        else:
            results.put(_read_fit_publish(store, frame, read))
    except Exception as err:  # reported to the parent, which asserts on it
        results.put(f"{type(err).__name__}: {err}")


def _read_fit_publish(store: Store, frame: pd.DataFrame, read: Any | None) -> str:
    new, _ = split_new(store.observations(), frame)
    if new.empty:
        return "nothing new"
    if read is None:
        time.sleep(1.0)  # the refit: long enough for the other process to read the store
    else:
        read.wait(timeout=60)
    store.publish([Publication([(new, Source("obs.csv", "0" * 64))], fake_summary(), Path("r"))])
    return f"published {len(new)}"


def _race(tmp_path: Path, lock: bool) -> tuple[list[str], int, int]:
    """Two processes, started together, each reading and publishing the same four rows."""
    ledger = str(tmp_path / "axis.sqlite")
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that may run JAX threads
    start, results = ctx.Barrier(2), ctx.Queue()
    read = None if lock else ctx.Barrier(2)
    procs = [
        ctx.Process(target=_publish_new_rows, args=(ledger, start, read, results)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    outcomes = sorted(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    store = Store(ledger)
    return outcomes, len(store.observations()), len(store.ledger())


def test_two_processes_at_once_publish_once_under_the_lock(tmp_path):
    outcomes, rows, ledger_rows = _race(tmp_path, lock=True)
    assert outcomes == ["nothing new", "published 4"]
    assert rows == 4 and ledger_rows == 1


def test_without_the_lock_the_same_two_processes_collide(tmp_path):
    """The control: the race above is real, so the test above can fail."""
    outcomes, rows, ledger_rows = _race(tmp_path, lock=False)
    assert outcomes[1] == "published 4" and outcomes[0] != "nothing new"
    # both read an empty store; the second fails late, on the duplicate ids or, when the two
    # writes meet under load, on SQLite's own write lock
    assert outcomes[0].startswith(("IntegrityError", "OperationalError: database is locked"))
