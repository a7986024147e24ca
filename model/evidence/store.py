"""The observation store and the forecast ledger: one embedded SQLite database.

Observations and published forecasts live in the same file so that an update
adds its rows and its ledger row in one transaction: either both land or
neither does, whatever happens to the process. Both tables are append-only,
enforced by triggers, so a published forecast can never be rewritten.

The transaction alone does not make two updates at once safe: each reads the
store, fits for a minute, then publishes, so both would take the same new
rows as new and publish two forecasts of them (or one would fail on a
duplicate id after its fit). :meth:`Store.locked` holds a file lock next to
the database across the whole read-fit-publish; a second update waits.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from model.evidence.data import COLUMNS, Actors, InputError, Problem, file_sha256, read_observations

SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    id TEXT PRIMARY KEY, date TEXT NOT NULL, kind TEXT NOT NULL, observer TEXT NOT NULL,
    target TEXT NOT NULL, indicator TEXT NOT NULL, code TEXT NOT NULL, citation TEXT NOT NULL,
    note TEXT NOT NULL, source_file TEXT NOT NULL, source_sha256 TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, as_of TEXT NOT NULL,
    data_sha256 TEXT NOT NULL, priors_sha256 TEXT NOT NULL, seed INTEGER NOT NULL,
    sampler TEXT NOT NULL, p_axis_mean REAL, p_axis_hdi_low REAL, p_axis_hdi_high REAL,
    p_axis_horizon_mean REAL, p_axis_horizon_hdi_low REAL, p_axis_horizon_hdi_high REAL,
    type_probs TEXT NOT NULL, diagnostics TEXT NOT NULL, run_folder TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resolutions (
    id TEXT PRIMARY KEY, answer TEXT NOT NULL CHECK (answer IN ('yes', 'no')),
    date TEXT NOT NULL, citation TEXT NOT NULL, resolved_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS resolutions_no_update BEFORE UPDATE ON resolutions
    BEGIN SELECT RAISE(ABORT, 'a settled question stays settled'); END;
CREATE TRIGGER IF NOT EXISTS resolutions_no_delete BEFORE DELETE ON resolutions
    BEGIN SELECT RAISE(ABORT, 'a settled question stays settled'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS observations_no_update BEFORE UPDATE ON observations
    BEGIN SELECT RAISE(ABORT, 'observations are append-only'); END;
CREATE TRIGGER IF NOT EXISTS observations_no_delete BEFORE DELETE ON observations
    BEGIN SELECT RAISE(ABORT, 'observations are append-only'); END;
"""


def _ledger_columns() -> tuple[str, ...]:
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(SCHEMA)
        return tuple(row[1] for row in con.execute("PRAGMA table_info(ledger)"))
    finally:
        con.close()


#: The ledger's columns, in table order (read from :data:`SCHEMA`, not repeated).
LEDGER_COLUMNS: tuple[str, ...] = _ledger_columns()

#: Ledger columns that hold JSON text.
LEDGER_JSON: tuple[str, ...] = ("sampler", "type_probs", "diagnostics", "summary")

#: Fields that make two observations the same evidence, whatever their ids.
CONTENT = ("date", "kind", "observer", "target", "indicator", "code", "citation")


#: Seconds an update waits for another axis process's store lock before it gives up:
#: longer than a full-size refit, shorter than forever.
LOCK_TIMEOUT = 1800.0


class StoreBusyError(RuntimeError):
    """Another axis process held the store's lock for longer than the wait allowed."""


@dataclass(frozen=True)
class Source:
    """Where a batch of observations came from."""

    file: str
    sha256: str


class Store:
    """The SQLite file holding observations and the ledger.

    Parameters
    ----------
    path
        The database file; created with its schema on first use.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def lock_path(self) -> Path:
        """The lock file beside the database (``axis.sqlite.lock``); it stays after use."""
        return self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def locked(
        self,
        *,
        timeout: float = LOCK_TIMEOUT,
        waiting: Callable[[str], None] | None = None,
    ) -> Iterator[Store]:
        """Hold the store's lock for a read-update-publish; other processes wait for it.

        Every process that reads the store to decide what to publish must
        hold it from the read to the commit. If another process holds it,
        ``waiting`` is told once (with the lock's path) and the lock is
        awaited up to ``timeout`` seconds; then :class:`StoreBusyError`. An
        operating-system lock: a killed holder releases it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.lock_path)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if waiting is not None:
                waiting(
                    "waiting for another axis process that holds the store lock "
                    f"{self.lock_path}..."
                )
            try:
                lock.acquire(timeout=timeout)
            except Timeout:
                raise StoreBusyError(
                    f"another axis process has held the store lock {self.lock_path} for more "
                    f"than {timeout:g} s; nothing was written (try again once it has finished)"
                ) from None
        try:
            yield self
        finally:
            lock.release()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.executescript(SCHEMA)
            yield con
        finally:
            con.close()

    def observations(self) -> pd.DataFrame:
        """Every stored observation, with its provenance columns, ordered by insertion."""
        if not self.path.exists():
            return pd.DataFrame(columns=[*COLUMNS, "source_file", "source_sha256", "added_at"])
        with self._connect() as con:
            frame = pd.read_sql_query("SELECT * FROM observations ORDER BY rowid", con)
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    def ledger(self) -> pd.DataFrame:
        """Every published forecast, oldest first (no rows, but the columns, if none)."""
        if not self.path.exists():
            return pd.DataFrame(columns=list(LEDGER_COLUMNS))
        with self._connect() as con:
            return pd.read_sql_query("SELECT * FROM ledger ORDER BY id", con)

    def resolutions(self) -> pd.DataFrame:
        """Every settled question: ``id``, ``answer`` (yes, no), ``date``, ``citation``."""
        if not self.path.exists():
            return pd.DataFrame(columns=["id", "answer", "date", "citation", "resolved_at"])
        with self._connect() as con:
            return pd.read_sql_query("SELECT * FROM resolutions ORDER BY rowid", con)

    def resolve(self, question: str, answer: str, when: str, citation: str) -> None:
        """Record a question's answer, once: the table refuses a second answer."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as con:
            con.execute(  # the connection commits each statement
                "INSERT INTO resolutions VALUES (?,?,?,?,?)",
                (question, answer, when, citation, now),
            )

    def last_summary(self) -> dict[str, Any] | None:
        """Return the summary of the most recent published forecast, if any."""
        led = self.ledger()
        return None if led.empty else json.loads(led.iloc[-1]["summary"])

    def publish(self, publications: list[Publication]) -> list[int]:
        """Add observation batches and ledger rows in a single transaction.

        Returns the new ledger ids. If anything fails, or the process dies,
        before the commit, neither the observations nor the ledger change.
        """
        now = datetime.now(UTC).isoformat(timespec="seconds")
        ids: list[int] = []
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                for pub in publications:
                    for frame, source in pub.batches:
                        rows = frame[list(COLUMNS)].copy()
                        rows["date"] = rows["date"].dt.strftime("%Y-%m-%d")
                        con.executemany(
                            "INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                            [
                                (*r, source.file, source.sha256, now)
                                for r in rows.itertuples(index=False)
                            ],
                        )
                    ids.append(_insert_ledger_row(con, now, pub.summary, pub.run_folder))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return ids


@dataclass(frozen=True)
class Publication:
    """One forecast to publish with the observation batches it adds."""

    batches: list[tuple[pd.DataFrame, Source]]
    summary: dict[str, Any]
    run_folder: Path


def _insert_ledger_row(
    con: sqlite3.Connection, now: str, summary: dict[str, Any], run_folder: Path
) -> int:
    prov = summary["provenance"]
    pa, ph = summary["p_axis"], summary["p_axis_horizon"]
    cur = con.execute(
        "INSERT INTO ledger (created, as_of, data_sha256, priors_sha256, seed, sampler,"
        " p_axis_mean, p_axis_hdi_low, p_axis_hdi_high, p_axis_horizon_mean,"
        " p_axis_horizon_hdi_low, p_axis_horizon_hdi_high, type_probs, diagnostics,"
        " run_folder, summary) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            now,
            prov["as_of"],
            prov["data_sha256"],
            prov["priors_sha256"],
            prov["seed"],
            json.dumps(prov["sampler"]),
            pa["mean"],
            pa["hdi_low"],
            pa["hdi_high"],
            ph["mean"],
            ph["hdi_low"],
            ph["hdi_high"],
            json.dumps({d: v["type_probs"] for d, v in summary["dyads"].items()}),
            json.dumps(summary["diagnostics"]),
            str(run_folder),
            json.dumps(summary),
        ),
    )
    return int(cur.lastrowid)


def split_new(
    stored: pd.DataFrame, incoming: pd.DataFrame
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Separate incoming rows into new ones and duplicates.

    A row is a duplicate if its id is already stored (or earlier in the
    incoming batch), or if its content (:data:`CONTENT`) equals a stored or
    earlier row's. Returns the new rows and ``(source_row, reason)`` for each
    duplicate.
    """

    def key(frame: pd.DataFrame) -> pd.Series:
        parts = frame[list(CONTENT)].astype(str)
        parts["date"] = frame["date"].dt.strftime("%Y-%m-%d")
        return parts.agg("|".join, axis=1)

    ids = set(stored["id"])
    contents = set(key(stored)) if len(stored) else set()
    keep, dupes = [], []
    for (i, row), k in zip(incoming.iterrows(), key(incoming), strict=True):
        if row["id"] in ids:
            dupes.append((int(row["source_row"]), f"id {row['id']} is already in the store"))
        elif k in contents:
            dupes.append((int(row["source_row"]), f"same evidence as a stored row ({row['id']})"))
        else:
            keep.append(i)
            ids.add(row["id"])
            contents.add(k)
    return incoming.loc[keep].reset_index(drop=True), dupes


def read_observation_files(files: list[Path], actors: Actors) -> list[tuple[pd.DataFrame, Source]]:
    """Read and validate observation files, each with its provenance.

    Raises :class:`~model.evidence.data.InputError` listing every bad row of every file.
    """
    problems: list[Problem] = []
    incoming: list[tuple[pd.DataFrame, Source]] = []
    for path in files:
        try:
            frame = read_observations(path, actors)
        except InputError as err:
            problems += err.problems
            continue
        incoming.append((frame, Source(path.name, file_sha256(path))))
    if problems:
        raise InputError(problems)
    return incoming
