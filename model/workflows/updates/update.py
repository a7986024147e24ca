"""Scripted forecast updates: validate, deduplicate, refit, publish, report the change.

An update either publishes (new observations and one ledger row, in one
transaction, pointing at a complete run folder) or changes nothing. The
first update of an empty store also publishes the baseline forecast of the
shipped evidence, in the same transaction, so that every update has a
previous forecast to compare with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from model.evidence.data import (
    Actors,
    file_sha256,
    load_actors,
    read_observations,
)
from model.evidence.priors import PriorSet, load_priors
from model.evidence.questions import Question, load_questions, question_file
from model.evidence.store import (
    LOCK_TIMEOUT,
    Publication,
    Source,
    Store,
    read_observation_files,
    split_new,
)
from model.inference.config import SamplerConfig
from model.workflows.common.hooks import Hooks
from model.workflows.common.inputs import CaseFiles, check_prior_shapes
from model.workflows.common.run_folder import (
    POSTERIOR,
    Figures,
    check_run_folder,
    open_run,
    read_group,
    write_run,
)
from model.workflows.forecast.fit import run_forecast
from model.workflows.forecast.inputs import Inputs, prepare_inputs
from model.workflows.forecast.questions import question_probabilities
from model.workflows.forecast.summary import summarise
from model.workflows.updates.record import (
    TrackRecord,
    forecast_record,
    record_line,
    track_record,
)


class DiagnosticsFailedError(RuntimeError):
    """The refit did not pass the convergence gate; nothing was published."""

    def __init__(self, diagnostics: dict[str, Any]):
        self.diagnostics = diagnostics
        super().__init__(
            f"convergence gate failed (R-hat max {diagnostics['r_hat_max']:.4f}, bulk ESS min "
            f"{diagnostics['ess_bulk_min']:.0f}, divergences {diagnostics['divergences']}); "
            "nothing was published"
        )


@dataclass
class UpdateResult:
    """What an update did."""

    added: int
    duplicates: list[tuple[str, int, str]] = field(default_factory=list)
    ledger_ids: list[int] = field(default_factory=list)
    run_folder: Path | None = None
    previous: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    method: str = ""
    record: TrackRecord | None = None


def _published(
    summary: dict[str, Any],
    idata: Any,
    questions: list[Question] | None,
    inputs: Inputs,
) -> dict[str, Any]:
    """Add what the ledger keeps of a publication besides its summary.

    Each open question's probability, and the forecast of every later
    period with the baselines of the rows it saw
    (:func:`model.workflows.updates.record.forecast_record`), which the track
    record scores once later rows arrive.
    """
    if questions:
        summary["questions"] = question_probabilities(idata, questions)
    summary["forecasts"] = forecast_record(idata, inputs.observations, inputs.actors.pandas_freq)
    return summary


def _fit_and_write(
    actors: Actors,
    frame: pd.DataFrame,
    priors: PriorSet,
    config: SamplerConfig,
    out: Path,
    *,
    as_of: date | None,
    horizon: int,
    allow_bad: bool,
    figures: Figures | None,
    questions: list[Question] | None = None,
) -> dict[str, Any]:
    from model.generative.build import build_model
    from model.generative.coordinates import PLAIN
    from model.inference.reweight import ANCHOR_GROUP, anchor_record

    inputs = prepare_inputs(actors, frame, priors, as_of=as_of, horizon=horizon)
    idata = run_forecast(inputs, config)
    summary = _published(summarise(idata), idata, questions, inputs)
    if not summary["diagnostics"]["passed"] and not allow_bad:
        raise DiagnosticsFailedError(summary["diagnostics"])
    if summary["diagnostics"]["passed"]:  # a later update may reweight these draws
        idata[ANCHOR_GROUP] = anchor_record(build_model(inputs.evidence, priors, PLAIN), idata)
    write_run(idata, out, figures(idata) if figures else None)
    return summary


def _reweight_and_write(
    actors: Actors,
    stored: pd.DataFrame,
    known: pd.DataFrame,
    priors: PriorSet,
    config: SamplerConfig,
    previous: Path,
    out: Path,
    *,
    as_of: date | None,
    horizon: int,
    figures: Figures | None,
    questions: list[Question] | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """Update by reweighting the anchor fit's draws (:mod:`~model.inference.reweight`), if sound.

    Returns the summary and how it was made, or ``None`` and why the update
    must draw the posterior again: the parameters changed (a new period or
    indicator), the anchor cannot be read or rebuilt, or the weights are not
    sound (:func:`model.workflows.updates.reuse.try_reweight`).
    """
    from model.generative.build import build_model
    from model.generative.coordinates import PLAIN
    from model.inference.convergence import IMPORTANCE_GROUP
    from model.inference.reweight import ANCHOR_GROUP, differs, log_joint
    from model.workflows.updates.reuse import Anchor, try_reweight

    anchor_log_joint = None
    anchor_folder = Path(previous).resolve()  # recorded absolute: later updates may run elsewhere
    record = read_group(previous, IMPORTANCE_GROUP)
    if record is not None:  # itself reweighted: go back to its anchor
        anchor_folder = Path(record.attrs["anchor"])
        anchor_log_joint = record["anchor_log_joint"].values
    anchor = open_run(anchor_folder)
    if anchor is None:
        return None, f"the run {anchor_folder} cannot be read"
    if not json.loads(anchor.attrs["diagnostics"])["passed"]:
        return None, "the anchor did not pass the convergence gate"
    inputs = prepare_inputs(actors, known, priors, as_of=as_of, horizon=horizon)
    # densities in the plain model's own variables, which every fit's posterior holds
    # whatever coordinates it was drawn in: the ratio is then the same parameter's
    model = build_model(inputs.evidence, priors, PLAIN)
    why = differs(model, anchor.posterior.to_dataset())
    if why is not None:
        return None, why
    if anchor_log_joint is None and ANCHOR_GROUP in anchor.children:
        anchor_log_joint = anchor[ANCHOR_GROUP]["log_joint"].values
    if anchor_log_joint is None:  # rebuild the anchor's model from the stored evidence
        prov = json.loads(anchor.attrs["provenance"])
        if prov["priors_sha256"] != priors.sha256:
            return None, "the prior set differs from the anchor's"
        old = prepare_inputs(
            actors, stored, priors, as_of=date.fromisoformat(prov["as_of"]), horizon=horizon
        )
        if old.data_sha256 != prov["data_sha256"]:
            return None, "the anchor's evidence cannot be rebuilt from the store"
        old_model = build_model(old.evidence, priors, PLAIN)
        if differs(old_model, anchor.posterior.to_dataset()) is not None:
            return None, "the anchor's model cannot be rebuilt"
        draws = {rv.name: anchor.posterior[rv.name].values for rv in old_model.free_RVs}
        anchor_log_joint, _ = log_joint(old_model, deterministics=False)(draws)
    tried = try_reweight(
        Anchor(anchor, anchor_log_joint, str(anchor_folder)), inputs, config, model
    )
    if not tried.method:
        return None, tried.why
    summary = _published(summarise(tried.idata), tried.idata, questions, inputs)
    write_run(tried.idata, out, figures(tried.idata) if figures else None)
    return summary, f"reweighted the draws of {anchor_folder.name} ({tried.why})"


def run_update(files: list[Path], *, actors: Actors, **kwargs: Any) -> UpdateResult:
    """Add new observation files to the store, refit, and publish the forecast.

    What ``axis update`` does. An empty store first publishes the baseline
    forecast of ``seed_data``, so the first update has something to compare
    with.

    Parameters
    ----------
    files
        Observation CSV files in the shipped format.
    actors
        The case (:func:`model.evidence.data.load_actors`).
    **kwargs
        Those of :func:`publish_update`: ``store``
        (:class:`~model.evidence.store.Store`), ``priors``, ``seed_data``
        (the case's observations file), ``config``, ``runs_dir`` (where run
        folders are written), and optionally ``as_of``, ``horizon``,
        ``allow_bad_diagnostics``, ``reweight`` and ``figures``.

    Returns
    -------
    UpdateResult
        Rows added, duplicates skipped, the ledger rows published, the new
        run folder, the previous and new summaries (compare them with
        :func:`diff_summaries`) and how the posterior was drawn.

    Raises
    ------
    model.evidence.data.InputError
        Every bad row of every file.
    DiagnosticsFailedError
        If the refit failed the convergence gate. In both cases nothing is changed.
    """
    return publish_update(read_observation_files(files, actors), actors=actors, **kwargs)


def publish_update(
    incoming: list[tuple[pd.DataFrame, Source]],
    *,
    store: Store,
    actors: Actors,
    priors: PriorSet,
    seed_data: Path,
    config: SamplerConfig,
    runs_dir: Path,
    as_of: date | None = None,
    horizon: int = 4,
    allow_bad_diagnostics: bool = False,
    reweight: bool = True,
    figures: Figures | None = None,
    questions: list[Question] | None = None,
) -> UpdateResult:
    """Publish validated observation batches: deduplicate, refit, write the ledger.

    Every batch must already be validated (:func:`model.evidence.data.read_observations`
    or the event-data adapter, :mod:`model.evidence.ingest`) and carry its
    :class:`~model.evidence.store.Source`. Raises :class:`DiagnosticsFailedError` if
    the refit fails its gate; then nothing is changed.

    With ``reweight`` (the default) the update first tries to reweight the
    last NUTS fit's draws (:mod:`model.inference.reweight`) and draws again with NUTS
    only when the weights or the gate say the reweighted draws cannot be
    trusted; ``result.method`` says which was done and why.

    ``figures`` draws a run's figures for its folder
    (:func:`model.outputs.plots.run_figures` from the command line); workflows
    do not draw, so a notebook or a test chooses. ``questions`` (the case's,
    :func:`model.evidence.questions.load_questions`) get their probabilities
    recorded with each publication.
    """
    stored = store.observations()
    publications: list[Publication] = []
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}-seed{config.seed}"
    fit = dict(
        as_of=as_of,
        horizon=horizon,
        allow_bad=allow_bad_diagnostics,
        figures=figures,
        questions=questions,
    )
    if stored.empty:
        seed_frame = read_observations(seed_data, actors)
        seed_src = Source(seed_data.name, file_sha256(seed_data))
        stored = seed_frame
    result = UpdateResult(added=0)
    batches: list[tuple[pd.DataFrame, Source]] = []
    known = stored
    for frame, source in incoming:
        new, dupes = split_new(known, frame)
        result.duplicates += [(source.file, row, why) for row, why in dupes]
        if len(new):
            batches.append((new, source))
            known = pd.concat([known, new], ignore_index=True)
    result.added = sum(len(b) for b, _ in batches)
    if not result.added:
        return result

    ledger = store.ledger()
    if ledger.empty:  # publish the baseline of the seed evidence first
        previous = runs_dir / f"{stamp}-baseline"
        base = _fit_and_write(actors, stored, priors, config, previous, **fit)
        publications.append(Publication([(seed_frame, seed_src)], base, previous))
        result.previous = base
    else:
        result.previous = store.last_summary()
        previous = Path(ledger["run_folder"].iloc[-1])
    out = runs_dir / f"{stamp}-update"
    # a few new rows barely move the posterior: reweight the last fit's draws if the
    # weights allow it, else draw again
    summary, result.method = None, "NUTS (asked for)"
    if reweight:
        summary, result.method = _reweight_and_write(
            actors,
            stored,
            known,
            priors,
            config,
            previous,
            out,
            as_of=as_of,
            horizon=horizon,
            figures=figures,
            questions=questions,
        )
        if summary is None:
            result.method = f"NUTS (not reweighted: {result.method})"
    if summary is None:
        summary = _fit_and_write(actors, known, priors, config, out, **fit)
    # the record of the forecasts published before this one, on every row known now
    result.record = track_record(ledger, known)
    summary["record"] = record_line(result.record)
    result.summary = summary
    publications.append(Publication(batches, result.summary, out))
    result.ledger_ids = store.publish(publications)
    result.run_folder = out
    return result


def diff_summaries(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """List the changes between two summaries, largest first.

    One row per (dyad, quantity, category) with the old and new posterior
    mean probability; P(axis) at the last period with evidence comes first.
    Each dyad's state given the evidence (``smoothed`` in the summary) is
    listed as ``state: type`` and so on beside the implied quantities, when
    both runs report it.

    Parameters
    ----------
    old, new
        Two summaries (:func:`model.workflows.forecast.summary.summarise`).

    Returns
    -------
    list of dict
        Rows with ``unit``, ``quantity``, ``category``, ``before``, ``after``
        and ``change``; ``pandas.DataFrame(rows)`` makes a table.
    """
    rows = [
        {
            "unit": "axis",
            "quantity": "P(axis)",
            "category": "formed",
            "before": old["p_axis"]["mean"],
            "after": new["p_axis"]["mean"],
        }
    ]
    changes = []
    for dyad, info in new["dyads"].items():
        before = old["dyads"].get(dyad)
        if before is None:
            continue
        # the implied state, and the state given the evidence where both runs report it
        sources = [("", info, before)]
        if "smoothed" in info and "smoothed" in before:
            sources.append(("state: ", info["smoothed"], before["smoothed"]))
        for prefix, now, then in sources:
            for quantity, key in (
                ("type", "type_probs"),
                ("commitment", "commitment"),
                ("cohesion", "cohesion"),
            ):
                for cat, val in now[key].items():
                    changes.append(
                        {
                            "unit": dyad,
                            "quantity": prefix + quantity,
                            "category": cat,
                            "before": then[key].get(cat, 0.0),
                            "after": val,
                        }
                    )
    changes.sort(key=lambda r: -abs(r["after"] - r["before"]))
    for r in [*rows, *changes]:
        r["change"] = r["after"] - r["before"]
    return rows + changes


@dataclass(frozen=True)
class UpdateRequest:
    """Where an update reads and writes, and how it fits.

    Attributes
    ----------
    ledger
        The SQLite file holding the observation store and the ledger.
    files
        The seed evidence (for a new store), the case's actors and the prior set.
    runs_dir
        The folder that receives the run folders.
    config
        Sampler settings of a refit.
    horizon, as_of, allow_bad_diagnostics, reweight
        As in :func:`publish_update`.
    lock_timeout
        Seconds to wait for another process holding the store's lock.
    """

    ledger: Path
    files: CaseFiles
    runs_dir: Path
    config: SamplerConfig
    horizon: int = 4
    as_of: date | None = None
    allow_bad_diagnostics: bool = False
    reweight: bool = True
    lock_timeout: float = LOCK_TIMEOUT


def read_new_files(files: list[Path], actors: Actors) -> list[tuple[pd.DataFrame, Source]]:
    """Read new observation files, naming any missing one first.

    :func:`model.evidence.store.read_observation_files`, after a check for missing files.

    A missing file is named before any is read: the analyst's typo is
    reported as such, not as an unreadable file.
    """
    missing = [f for f in files if not f.exists()]
    if missing:
        raise FileNotFoundError(f"no such file: {', '.join(map(str, missing))}")
    return read_observation_files(files, actors)


def case_questions(files: CaseFiles, actors: Actors) -> list[Question]:
    """Read the case's questions: ``questions.toml`` beside its actors file, if any."""
    path = question_file(files.actors)
    return load_questions(path, actors) if path.is_file() else []


def load_update_case(request: UpdateRequest) -> tuple[Actors, PriorSet]:
    """Read the case and the prior set of an update, and check that they fit each other.

    Raises :class:`~model.evidence.data.InputError` before the store is touched.
    """
    actors = load_actors(request.files.actors)
    priors = load_priors(request.files.priors)
    check_prior_shapes(priors, actors)
    return actors, priors


def check_anchor(store: Store) -> None:
    """Raise :class:`~model.evidence.data.InputError` if the last run's posterior is damaged.

    An update reweights, or warm-starts from, the last published run; a
    damaged ``posterior.nc`` there would be passed over in silence (a cold
    refit) or end in a traceback. A run folder that is gone is not an error:
    the update then draws the posterior afresh, as it always has.
    """
    led = store.ledger()
    if not led.empty and Path(led["run_folder"].iloc[-1]).is_dir():
        check_run_folder(led["run_folder"].iloc[-1], (POSTERIOR,))


def publish_locked(
    batches: list[tuple[pd.DataFrame, Source]],
    actors: Actors,
    priors: PriorSet,
    request: UpdateRequest,
    *,
    hooks: Hooks | None = None,
    figures: Figures | None = None,
) -> UpdateResult:
    """Publish validated batches under the store's lock (:func:`publish_update`).

    The lock is held from the read of the store (and of the last run, the
    anchor) to the commit: a second process waits, so two updates at once
    neither lose rows nor publish one forecast twice. Raises
    :class:`~model.evidence.store.StoreBusyError` when the lock is not had
    within ``request.lock_timeout`` seconds; then nothing is written.
    """
    hooks = hooks or Hooks()
    store = Store(request.ledger)
    with store.locked(timeout=request.lock_timeout, waiting=hooks.waiting):
        check_anchor(store)
        with hooks.busy("validating, refitting and publishing"):
            return publish_update(
                batches,
                store=store,
                actors=actors,
                priors=priors,
                seed_data=request.files.observations,
                config=request.config,
                runs_dir=request.runs_dir,
                as_of=request.as_of,
                horizon=request.horizon,
                allow_bad_diagnostics=request.allow_bad_diagnostics,
                reweight=request.reweight,
                figures=figures,
                questions=case_questions(request.files, actors),
            )


def update_store(
    request: UpdateRequest,
    files: list[Path],
    *,
    hooks: Hooks | None = None,
    figures: Figures | None = None,
) -> UpdateResult:
    """Validate new observation files, refit, publish: ``axis update`` without its output.

    The case and the prior set are read first, then the files against the
    case (:func:`read_new_files`): every input is checked before the store's
    lock is taken. Raises :class:`~model.evidence.data.InputError`,
    ``FileNotFoundError``, :class:`~model.evidence.store.StoreBusyError` or
    :class:`DiagnosticsFailedError`; in every case nothing is changed.
    """
    actors, priors = load_update_case(request)
    batches = read_new_files(files, actors)
    return publish_locked(batches, actors, priors, request, hooks=hooks, figures=figures)
