"""The HTML report: self-contained, the headline equals summary.json's, and it renders in Chromium.

The browser test needs Chromium (Debian package ``chromium``). Outside CI a
missing browser skips it; in CI (``CI`` set) it fails, so the check cannot
silently stop running.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from model.cli import app
from model.outputs.plots import run_figures
from model.outputs.report import compute_checks, headline_text, write_report
from model.workflows.common.run_folder import CHECKS, REPORT, TIMINGS, write_run
from model.workflows.common.timing import STAGES
from tests.conftest import ACTORS, OBSERVATIONS, ROOT

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class _Page(HTMLParser):
    """Collect every element's attributes and the text inside the headline element."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.by_id: dict[str, dict[str, str]] = {}
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if "id" in a:
            self.by_id[a["id"]] = a
            self.text.setdefault(a["id"], "")
        if tag not in {"img", "meta", "br", "link", "input"}:
            self._open.append(a.get("id", ""))

    def handle_endtag(self, tag):
        if self._open and tag not in {"img", "meta", "br", "link", "input"}:
            self._open.pop()

    def handle_data(self, data):
        for i in self._open:
            if i:
                self.text[i] += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, small_fit, shipped_inputs):
    """A run folder of the shared small fit, with its checks and report."""
    run = write_run(small_fit, tmp_path_factory.mktemp("runs") / "run", run_figures(small_fit))
    _, check_seconds = compute_checks(run, shipped_inputs)
    _, report_seconds = write_report(run)
    print(f"checks {check_seconds:.1f} s, report {report_seconds:.1f} s")
    return run


def test_headline_equals_summary(run_folder):
    """The headline is summary.json's p_axis mean, formatted as the CLI prints it (3 decimals)."""
    summary = json.loads((run_folder / "summary.json").read_text())
    page = _parse((run_folder / REPORT).read_text(encoding="utf-8"))
    head = page.by_id["p-axis"]
    assert float(head["data-value"]) == summary["p_axis"]["mean"]
    assert page.text["p-axis"].strip() == f"{summary['p_axis']['mean']:.3f}"
    assert page.text["p-axis"].strip() == headline_text(summary)


def test_report_is_self_contained(run_folder):
    text = (run_folder / REPORT).read_text(encoding="utf-8")
    page = _parse(text)
    imgs = [a for tag, a in page.elements if tag == "img"]
    assert len(imgs) >= 9  # fan, types, outcomes, threats, rank, 3 predictive, LOO-PIT
    for a in imgs:
        prefix = "data:image/png;base64,"
        assert a["src"].startswith(prefix)
        assert base64.b64decode(a["src"][len(prefix) :])[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing is fetched: no external scripts, styles, fonts or images
    assert not [
        a
        for tag, a in page.elements
        if tag in {"script", "link"} and (a.get("src") or a.get("href"))
    ]
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)
    assert "@import" not in text and "url(" not in text
    for section in (
        "headline",
        "dyads",
        "threats",
        "evidence",
        "diagnostics",
        "checks",
        "provenance",
    ):
        assert section in page.by_id
    summary = json.loads((run_folder / "summary.json").read_text())
    assert summary["provenance"]["data_sha256"] in text
    assert summary["provenance"]["priors_sha256"] in text


def _chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    return None


def test_report_renders_in_headless_chromium(run_folder, tmp_path):
    """Every figure decodes in a real browser, and the headline is on the rendered page."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; CI must install it (see .ci/run)")
        pytest.skip("Chromium not installed (outside CI only)")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        (run_folder / REPORT).resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    page = _parse(done.stdout)
    imgs = [a for tag, a in page.elements if tag == "img"]
    assert len(imgs) >= 9
    widths = [int(a.get("data-natural-width", "0")) for a in imgs]
    assert all(w > 100 for w in widths), widths
    counter = page.by_id["figures-loaded"]
    assert counter["data-loaded"] == counter["data-total"] == str(len(imgs))
    summary = json.loads((run_folder / "summary.json").read_text())
    assert page.text["p-axis"].strip() == f"{summary['p_axis']['mean']:.3f}"


def test_axis_report_rerenders_from_the_cache_and_refuses_other_inputs(run_folder, tmp_path):
    report = run_folder / REPORT
    report.unlink()
    checks_before = (run_folder / CHECKS).stat().st_mtime_ns
    result = CliRunner().invoke(app, ["report", str(run_folder)])
    assert result.exit_code == 0, result.output
    assert report.exists()
    assert (run_folder / CHECKS).stat().st_mtime_ns == checks_before  # not recomputed
    other = tmp_path / "other.toml"
    other.write_text((ROOT / "priors" / "realist.toml").read_text(encoding="utf-8"))
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(run_folder),
            "--recheck",
            "--data",
            str(OBSERVATIONS),
            "--actors",
            str(ACTORS),
            "--priors",
            str(other),
        ],
    )
    assert result.exit_code == 2
    assert "differ" in result.output
    assert (run_folder / CHECKS).stat().st_mtime_ns == checks_before


def test_forecast_writes_the_report_by_default(tmp_path, monkeypatch, small_fit):
    """``axis forecast`` ends with the checks and the report (the fit itself is the shared one)."""

    def fit(inputs, config, **kw):
        kw["on_chunk"](250, 812.4)  # the sampler reports each chunk of a fit to a precision
        return small_fit

    monkeypatch.setattr("model.workflows.forecast.case.run_forecast", fit)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["forecast", "--out", str(out), "--as-of", "2025-09-30", "--allow-bad-diagnostics"]
    )
    assert result.exit_code == 0, result.output
    assert (out / CHECKS).exists()
    text = (out / REPORT).read_text(encoding="utf-8")
    summary = json.loads((out / "summary.json").read_text())
    assert f'data-value="{summary["p_axis"]["mean"]!r}"' in text
    assert "Report:" in result.output
    assert "250 draws per chain, smallest bulk ESS of the reported quantities 812" in result.output
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
    # where the time went: the fit's stages as the fit recorded them (here the shared fit's),
    # the command's own measured here, together no more than the command's total
    timings = json.loads((out / TIMINGS).read_text())
    stages = timings["stages"]
    fit = json.loads(small_fit.attrs["stage_seconds"])
    assert set(fit) == {"build", "compile", "sampling", "diagnostics"}
    assert {k: stages[k] for k in fit} == fit
    own = {k: v for k, v in stages.items() if k not in fit}
    assert set(own) == {"start", "inputs", "write", "checks", "report"}
    assert set(stages) <= set(STAGES) and all(v >= 0 for v in stages.values())
    assert fit["sampling"] > 0 and own["report"] > 0 and own["write"] > 0
    assert sum(own.values()) <= timings["total"] + 0.01 * len(own)  # each rounded to 0.01 s
    printed = re.search(r"Time: (\d+\.\d) s \(", result.output)
    assert printed and abs(float(printed[1]) - timings["total"]) <= 0.051

    quick = tmp_path / "quick"
    result = CliRunner().invoke(
        app,
        [
            "forecast",
            "--out",
            str(quick),
            "--as-of",
            "2025-09-30",
            "--allow-bad-diagnostics",
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    assert not (quick / REPORT).exists() and not (quick / CHECKS).exists()
    assert "report" not in json.loads((quick / TIMINGS).read_text())["stages"]
