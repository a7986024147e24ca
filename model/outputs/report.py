"""A self-contained HTML report of a run folder.

One file, no network: figures are embedded as base64 PNG, the style sheet
is inline and the only script is a few lines that count the figures the
browser decoded. Every number comes from the run folder (``summary.json``,
``posterior.nc``) and the cached predictive checks (``checks.nc``), so the
report can be re-rendered at any time without refitting.

The headline P(axis) is written exactly as the command line prints it
(:func:`headline_text`, three decimals) and, unrounded, in the
``data-value`` attribute of the element with id ``p-axis``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from model.inference.convergence import ESS_BULK_MIN, HDI_PROB, RHAT_MAX, diagnostics
from model.workflows.common.inputs import check_inputs_match
from model.workflows.common.run_folder import (
    CHECKS,
    POSTERIOR,
    REPORT,
    atomic_file,
    read_summary,
    read_tree,
)

#: Figures the run folder already holds
#: (written by :func:`model.workflows.common.run_folder.write_run`).
RUN_FIGURES = ("p_axis", "dyad_types", "outcomes", "threats")

#: Scalar-ish parameters whose rank plots the report shows, besides P(axis).
RANK_VARIABLES = ("level_sharpness", "conduct_error", "outcome_error")


def headline_text(summary: dict[str, Any]) -> str:
    """Format the headline P(axis) as the command line prints it: posterior mean, 3 decimals."""
    return f"{summary['p_axis']['mean']:.3f}"


def _png(fig: Figure, dpi: int = 80) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], row_class: Sequence[str] | None = None
) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_class[i]}"' if row_class and row_class[i] else ""
        cells = "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _num(x: Any, fmt: str = ".2f") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "–" if not np.isfinite(v) else format(v, fmt)


# ----------------------------------------------------------------- sections


def _headline(summary: dict[str, Any], figures: dict[str, bytes]) -> str:
    p = summary["p_axis"]
    ext = summary["case"]["external"]
    partners = ", ".join(summary["case"]["partners"])
    rows = [
        (
            role,
            summary[key]["period"],
            f"{summary[key]['mean']:.3f}",
            f"[{summary[key]['hdi_low']:.3f}, {summary[key]['hdi_high']:.3f}]",
        )
        for key, role in (
            ("p_axis", "last evidence"),
            ("p_axis_now", "now"),
            ("p_axis_horizon", "horizon"),
        )
    ]
    return f"""
<section id="headline">
<h2>P(anti-{html.escape(ext)} axis of {html.escape(partners)})</h2>
<p class="headline">P(axis) at {html.escape(p["period"])}:
<span id="p-axis" data-value="{p["mean"]!r}">{headline_text(summary)}</span>
<span class="hdi">{HDI_PROB:.0%} HDI [{p["hdi_low"]:.3f}, {p["hdi_high"]:.3f}]</span></p>
<p>The probability that every partner balances in every dyad (posterior mean).</p>
{_stacked(summary)}
{_table(("when", "period", "mean", f"{HDI_PROB:.0%} HDI"), rows)}
{_img(figures["p_axis"], "P(axis) forecast fan")}
</section>"""


def _stacked(summary: dict[str, Any]) -> str:
    """Return a paragraph on the theories stacked, for a run made with ``--theory stacked``."""
    if "stacked" not in summary:
        return ""
    s = summary["stacked"]
    p = s["p_axis"]
    weights = ", ".join(f"{html.escape(k)} {w:.2f}" for k, w in s["weights"].items())
    own = ", ".join(f"{html.escape(k)} {v:.3f}" for k, v in p["by_theory"].items())
    return (
        f"<p id='stacked'>With the rival theories stacked on the conduct and outcome "
        f"evidence, P(axis) is {p['mean']:.3f} [{p['hdi_low']:.3f}, {p['hdi_high']:.3f}] "
        f"(weights: {weights}; each theory alone: {own}).</p>"
    )


def _dyads(summary: dict[str, Any], figures: dict[str, bytes]) -> str:
    from model.theory.tables import OUTCOME_LEVELS, OUTSIDE_THEORY

    parts = []
    for d, info in summary["dyads"].items():
        state = info.get("smoothed")  # runs written before it was reported lack it
        ranked = sorted(info["type_probs"].items(), key=lambda kv: -kv[1])
        rows = [
            (t + (" (outside the theory)" if t in OUTSIDE_THEORY else ""), _pct(v))
            + ((_pct(state["type_probs"][t]),) if state else ())
            for t, v in ranked[:4]
        ]
        out = [
            (lv, _pct(info["commitment"][lv]), _pct(info["cohesion"][lv]))
            + ((_pct(state["commitment"][lv]), _pct(state["cohesion"][lv])) if state else ())
            for lv in OUTCOME_LEVELS
        ]
        type_head = ("alliance type", "implied", "state") if state else ("alliance type", "P")
        out_head = ("level", "commitment", "cohesion")
        out_head += ("state: commitment", "state: cohesion") if state else ()
        parts.append(
            f"<div class='card'><h3>{html.escape(d)}</h3>"
            f"{_table(type_head, rows)}"
            f"{_table(out_head, out)}</div>"
        )
    axis = [
        (lv, _pct(summary["axis_commitment"][lv]), _pct(summary["axis_cohesion"][lv]))
        for lv in OUTCOME_LEVELS
    ]
    period = html.escape(summary["periods"]["last_evidence"])
    return f"""
<section id="dyads">
<h2>Alliances per dyad at {period}</h2>
<p><em>Implied</em>: what the threats imply through the theory's tables.
<em>State</em>: the dyad given all the evidence, that period's conduct and
outcome codes included; in a period without such codes the two agree.</p>
<div class="cards">{"".join(parts)}
<div class='card'><h3>Axis (weakest link)</h3>
{_table(("level", "commitment", "cohesion"), axis)}</div></div>
{_img(figures["dyad_types"], "Alliance-type probabilities per dyad")}
<h3>Commitment and cohesion</h3>
{_img(figures["outcomes"], "Commitment and cohesion per dyad and for the axis")}
</section>"""


def _threats(summary: dict[str, Any], figures: dict[str, bytes]) -> str:
    rows = [(s, *(_pct(v) for v in lv.values())) for s, lv in summary["threat_levels"].items()]
    levels = next(iter(summary["threat_levels"].values())).keys()
    period = html.escape(summary["periods"]["last_evidence"])
    return f"""
<section id="threats">
<h2>Threat trajectories</h2>
{_img(figures["threats"], "Latent threat per series")}
<h3>Threat level at {period}</h3>
{_table(("series", *levels), rows)}
</section>"""


def _evidence(summary: dict[str, Any], checks: xr.DataTree) -> str:
    ev = checks["evidence"].to_dataset()
    threat = ev["threat_count"].to_pandas()
    t_rows = [(s, int(r.sum()), *(int(v) for v in r)) for s, r in threat.iterrows()]
    conduct = ev["conduct_count"].to_pandas()
    c_rows = [(p, int(r.sum()), *(int(v) for v in r)) for p, r in conduct.iterrows()]
    outcome = ev["outcome_count"]
    o_rows = [
        (
            str(d),
            str(o),
            int(outcome.sel(dyad=d, outcome=o).sum()),
            *(int(v) for v in outcome.sel(dyad=d, outcome=o).values),
        )
        for d in outcome["dyad"].values
        for o in outcome["outcome"].values
    ]
    rows = summary["provenance"].get("rows", {})
    total = ", ".join(f"{k}: {v}" for k, v in rows.items())
    return f"""
<section id="evidence">
<h2>Evidence</h2>
<p>Coded observations used ({html.escape(total)}), summed over periods.</p>
<h3>Threat codes per series</h3>
{_table(("series", "n", *threat.columns), t_rows)}
<h3>Conduct codes per directed pair</h3>
{_table(("pair", "n", *conduct.columns), c_rows)}
<h3>Outcome codes per dyad</h3>
{_table(("dyad", "outcome", "n", *[str(x) for x in outcome["outcome_level"].values]), o_rows)}
</section>"""


def _diagnostics(summary: dict[str, Any], idata: xr.DataTree, figures: dict[str, bytes]) -> str:
    dg = summary["diagnostics"]
    state = "passed" if dg["passed"] else "FAILED"
    per_var = [
        (v, d["r_hat_max"], d["ess_bulk_min"])
        for v, d in (dg.get("per_variable") or diagnostics(idata)["per_variable"]).items()
    ]
    cls = ["bad" if r > RHAT_MAX or e < ESS_BULK_MIN else "" for _, r, e in per_var]
    rows = [(v, f"{r:.4f}", f"{e:.0f}") for v, r, e in per_var]
    return f"""
<section id="diagnostics">
<h2>Sampler diagnostics</h2>
<p class="gate {state.lower()}">Convergence gate {state}: max R-hat {dg["r_hat_max"]:.4f}
(&le; {RHAT_MAX}), min bulk ESS {dg["ess_bulk_min"]:.0f} (&ge; {ESS_BULK_MIN}),
divergences {dg["divergences"]} (must be 0).</p>
{_table(("variable", "max R-hat", "min bulk ESS"), rows, cls)}
{_img(figures["rank"], "Rank plots per chain")}
</section>"""


def _checks(checks: xr.DataTree, figures: dict[str, bytes]) -> str:
    from model.workflows.validation.predictive import fit_table

    fit = fit_table(checks)
    flagged = fit[fit["flagged"]]
    p_flag = checks.attrs.get("p_flag", 0.05)
    rows = [
        (
            r.kind,
            r.unit,
            int(r.n),
            _num(r.mean),
            f"[{_num(r.mean_low)}, {_num(r.mean_high)}]" if np.isfinite(r.mean_low) else "–",
            _num(r.p_mean),
            _num(r.p_mix),
            "–" if not np.isfinite(r.cells) else f"{int(r.pit_extreme)}/{int(r.cells)}",
            _num(r.p_pit, ".3f"),
            "–" if not np.isfinite(r.high_k) else int(r.high_k),
            r.reason or "",
        )
        for r in fit.itertuples(index=False)
    ]
    cls = ["flagged" if f else "" for f in fit["flagged"]]
    named = ", ".join(f"{u} ({w})" for u, w in zip(flagged.unit, flagged.reason, strict=True))
    verdict = (
        f"<p class='warn'>{len(flagged)} unit(s) fit poorly: {html.escape(named)}.</p>"
        if len(flagged)
        else "<p class='ok'>No unit is flagged by the rule below.</p>"
    )
    behaviour = (
        "".join(
            _img(figures[k], f"Predictive {k[4:]} codes")
            for k in ("ppc_conduct", "ppc_outcome")
            if k in figures
        )
        or "<p>No replicator for conduct and outcome evidence is registered.</p>"
    )
    draws = checks.attrs.get("draws", "?")
    return f"""
<section id="checks">
<h2>Predictive checks</h2>
<p>Codes replicated from {draws} prior draws and {draws} thinned posterior draws, with the
observed number of codes in every cell, compared with the observed codes per unit.
A unit is <b>flagged</b> when the two-sided posterior predictive p-value of its mean code
(<i>mean code</i>), the p-value of its Pearson discrepancy over codes (<i>code mix</i>), or
the binomial tail probability of its number of threat cells with LOO-PIT outside the central
{HDI_PROB:.0%} (<i>LOO-PIT</i>) is below {p_flag}. Posterior predictive p-values of a
flexible model are conservative (they pile up near 1); LOO-PIT is the sharper check.
Pareto k above the sample-size threshold marks cells whose LOO estimate is unreliable.</p>
{verdict}
{
        _table(
            (
                "kind",
                "unit",
                "n",
                "mean code",
                f"{HDI_PROB:.0%} interval",
                "p mean",
                "p mix",
                "LOO-PIT extreme",
                "p LOO-PIT",
                "high k",
                "flag",
            ),
            rows,
            cls,
        )
    }
<h3>Threat evidence</h3>
{_img(figures["ppc_threat"], "Prior and posterior predictive threat codes")}
{_img(figures["loo_pit"], "LOO-PIT of threat cells")}
<h3>Conduct and outcome evidence</h3>
{behaviour}
</section>"""


def _provenance(summary: dict[str, Any], idata: xr.DataTree, checks: xr.DataTree) -> str:
    prov = summary["provenance"]
    rows = [
        ("data sha256", prov["data_sha256"]),
        ("priors", prov.get("priors", "")),
        ("priors sha256", prov["priors_sha256"]),
        ("seed", prov["seed"]),
        ("sampler", json.dumps(prov["sampler"])),
        ("as of", prov["as_of"]),
        ("rows", json.dumps(prov.get("rows", {}))),
        ("fitted", prov["created"]),
        ("sampling time (s)", idata.posterior.attrs.get("sampling_time", "")),
        (
            "predictive checks",
            f"{checks.attrs.get('draws')} draws, seed {checks.attrs.get('seed')}",
        ),
        ("report written", datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    versions = [(k, v) for k, v in prov.get("versions", {}).items()]
    return f"""
<section id="provenance">
<h2>Provenance</h2>
{_table(("field", "value"), rows)}
<h3>Versions</h3>
{_table(("package", "version"), versions)}
</section>"""


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
max-width:1100px;margin:0 auto;padding:1em 1.5em;color:#222;line-height:1.45}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}h3{margin-bottom:.3em}
.headline{font-size:1.6em;margin:.3em 0}#p-axis{font-weight:700;font-size:1.4em;color:#0b4f8a}
.hdi{color:#555;font-size:.8em;margin-left:.6em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.85em}
td,th{border:1px solid #ddd;padding:.2em .55em;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr.flagged td,tr.bad td{background:#fde8e8}
figure{margin:.5em 0}img{max-width:100%;height:auto}
.cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #e2e2e2;padding:.4em .8em}
.gate.passed,.ok{color:#176b2c}.gate.failed,.warn{color:#a01818;font-weight:600}
nav a{margin-right:.8em}footer{color:#777;font-size:.8em;margin:2em 0}
"""

#: Counts the figures the browser decoded; the count is shown in the footer.
SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    var w = imgs[i].naturalWidth;
    imgs[i].setAttribute('data-natural-width', String(w));
    if (imgs[i].complete && w > 0) { ok++; }
  }
  var el = document.getElementById('figures-loaded');
  el.textContent = ok + ' of ' + imgs.length + ' figures displayed';
  el.setAttribute('data-loaded', String(ok));
  el.setAttribute('data-total', String(imgs.length));
});
"""


def render_html(
    summary: dict[str, Any], idata: xr.DataTree, checks: xr.DataTree, figures: dict[str, bytes]
) -> str:
    """Return the report as one HTML document (figures as PNG bytes by name)."""
    title = f"Alliance forecast, as of {summary['provenance']['as_of']}"
    nav = "".join(
        f'<a href="#{k}">{v}</a>'
        for k, v in (
            ("headline", "P(axis)"),
            ("dyads", "Dyads"),
            ("threats", "Threats"),
            ("evidence", "Evidence"),
            ("diagnostics", "Diagnostics"),
            ("checks", "Predictive checks"),
            ("provenance", "Provenance"),
        )
    )
    body = "".join(
        (
            _headline(summary, figures),
            _dyads(summary, figures),
            _threats(summary, figures),
            _evidence(summary, checks),
            _diagnostics(summary, idata, figures),
            _checks(checks, figures),
            _provenance(summary, idata, checks),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body><h1>{html.escape(title)}</h1><nav>{nav}</nav>
{body}
<footer><span id="figures-loaded" data-loaded="0">figures not checked (scripts off)</span>.
Data hash {html.escape(summary["provenance"]["data_sha256"][:12])}, seed
{summary["provenance"]["seed"]}.</footer>
<script>{SCRIPT}</script>
</body></html>
"""


# ------------------------------------------------------------------ figures


def report_figures(run: Path, idata: xr.DataTree, checks: xr.DataTree) -> dict[str, bytes]:
    """PNG bytes of every figure: the run folder's own, then the checks and diagnostics."""
    from model.outputs import plots

    out: dict[str, bytes] = {}
    missing = [n for n in RUN_FIGURES if not (run / f"{n}.png").exists()]
    made = plots.run_figures(idata) if missing else {}
    for name in RUN_FIGURES:
        path = run / f"{name}.png"
        out[name] = path.read_bytes() if path.exists() else _png(made[name])
    ranked = [v for v in RANK_VARIABLES if v in idata.posterior]
    periods = json.loads(idata.attrs["report_periods"])
    makers: dict[str, Callable[[], Figure]] = {
        "rank": lambda: plots.plot_rank_diagnostics(
            idata, [*ranked, "p_axis"], {"period": [periods["last_evidence"]]}
        ),
        "ppc_threat": lambda: plots.plot_predictive_counts(checks, "threat"),
        "loo_pit": lambda: plots.plot_threat_loo_pit(checks),
    }
    if "behaviour" in checks:
        makers["ppc_conduct"] = lambda: plots.plot_predictive_counts(checks, "conduct")
        makers["ppc_outcome"] = lambda: plots.plot_predictive_counts(checks, "outcome")
    for name, make in makers.items():
        out[name] = _png(make())
    return out


def write_report(run: str | Path, checks: xr.DataTree | None = None) -> tuple[Path, float]:
    """Render ``report.html`` in a run folder, atomically; return its path and the seconds taken.

    ``checks`` defaults to the run folder's ``checks.nc`` (see
    :func:`model.workflows.validation.predictive.run_checks`); without either there is nothing to
    report on predictive fit, so that is an error.
    """
    start = time.perf_counter()
    run = Path(run)
    summary = read_summary(run)
    idata = read_tree(run / POSTERIOR)
    if checks is None:
        path = run / CHECKS
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: compute the predictive checks first")
        checks = read_tree(path)
    text = render_html(summary, idata, checks, report_figures(run, idata, checks))
    out = run / REPORT
    with atomic_file(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out, time.perf_counter() - start


# ---------------------------------------------------------------- run folders


def horizon_of(idata: xr.DataTree) -> int:
    """Forecast periods after the as-of period, read back from a posterior."""
    periods = [str(p) for p in idata.posterior["period"].values]
    return len(periods) - 1 - periods.index(json.loads(idata.attrs["report_periods"])["now"])


def compute_checks(
    run: str | Path,
    inputs: Any,
    *,
    idata: xr.DataTree | None = None,
    n_draws: int | None = None,
    seed: int | None = None,
) -> tuple[Path, float]:
    """Run the predictive checks of a run folder and cache them as ``checks.nc``.

    ``inputs`` (:class:`model.workflows.forecast.inputs.Inputs`) must be the ones the run was
    fitted on (checked by hash); ``idata`` is the run's posterior if already
    in memory. The seed defaults to the run's seed, so the checks are
    reproducible. Returns the path and the seconds taken.
    """
    from model.generative.build import build_model
    from model.workflows.validation.predictive import (
        CHECK_DRAWS,
        run_checks,
        write_checks,
    )

    start = time.perf_counter()
    run = Path(run)
    summary = read_summary(run)
    check_inputs_match(summary["provenance"], inputs)
    if idata is None:
        idata = read_tree(run / POSTERIOR)
    model = build_model(inputs.evidence, inputs.priors)
    checks = run_checks(
        idata,
        inputs.evidence,
        model,
        n_draws=n_draws or CHECK_DRAWS,
        seed=summary["provenance"]["seed"] if seed is None else seed,
    )
    path = write_checks(checks, run / CHECKS)
    return path, time.perf_counter() - start


def render_sensitivity_html(result: Any, page: Figure) -> str:
    """Render the sensitivity analysis as one self-contained page: verdict, figure, tables.

    ``result`` is a :class:`model.workflows.studies.sensitivity.Sensitivity` and
    ``page`` its one-page figure (:func:`model.outputs.plots.plot_sensitivity_page`).
    The verdict comes first, as on the console, so the findings that matter
    are read before the tables.
    """
    from model.workflows.studies.sensitivity import FLAG_RULE, verdict

    lines = "".join(f"<li>{html.escape(line)}</li>" for line in verdict(result))
    sets = result.prior_sets
    sweep = result.sweep
    tables = _table(list(sets.columns), sets.itertuples(index=False))
    if len(sweep):
        tables += "<h3>Trust in the theory: Table 2 total concentration</h3>"
        tables += _table(list(sweep.columns), sweep.itertuples(index=False))
    loo = result.loo.reset_index()
    tables += "<h3>PSIS-LOO and stacking on the conduct and outcome evidence</h3>"
    tables += _table(list(loo.columns), loo.itertuples(index=False))
    body = f"""
<section id="sensitivity">
<h2>Prior sensitivity</h2>
<ul id="verdict">{lines}</ul>
<p class="rule">{html.escape(FLAG_RULE)}</p>
{_img(_png(page), "P(axis) and the dyad types under every prior set and concentration")}
<h3>Every prior set</h3>
{tables}
</section>"""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Prior sensitivity</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
