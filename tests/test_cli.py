"""The command line: the demo, ``bench --quick`` and ``plot`` run and report (timings are not judged)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "anyrelu", *args], capture_output=True, text=True, timeout=300
    )


def test_demo_shows_both_seed_examples_on_every_available_backend():
    result = _run()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for call in ("relu(x)", "relu_dash(x)", "relu(x, leak = 0.1)", "relu_dash(x, leak = 0.1)"):
        assert f"{call}  -- " in out
    assert "BACKENDS DISAGREE" not in out
    assert out.count("all backends agree") == 4
    assert re.search(r"^Available: numpy", out, re.M)
    assert "-0 " not in out and not re.search(r"-0(\s|$)", out), "no negative zeros in the output"
    assert "-0.05" in out and "50.2" in out


def test_demo_names_missing_backends_with_a_reason():
    out = _run().stdout
    available = re.search(r"^Available: (.*)$", out, re.M).group(1).split(", ")
    missing = re.findall(r"^Missing: (\w+): (.+)$", out, re.M)
    assert {name for name, _ in missing}.isdisjoint(available)
    assert len(available) + len(missing) == 6
    assert all(reason.strip() for _, reason in missing)


def test_bench_quick_runs_and_writes_every_row(tmp_path):
    pytest.importorskip("rich", reason="the benchmark's table needs rich")
    path = tmp_path / "bench.json"
    result = _run("bench", "--quick", "--backend", "numpy", "--backend", "dask", "--json", str(path))
    assert result.returncode == 0, result.stderr
    report = json.loads(path.read_text())
    names = [row["name"] for row in report["results"]]
    assert any(name.startswith("relu n=") for name in names)
    assert any("peak memory" in name for name in names)
    assert any(row["backend"] == "dask" for row in report["results"])
    for row in report["results"]:
        assert row["value"] > 0 and row["must"] > 0 and isinstance(row["met"], bool)
    assert report["machine"]["cpu"]
    assert "ratio" in result.stdout and "numpy" in result.stdout


def test_bench_rejects_an_unknown_backend():
    pytest.importorskip("rich", reason="the benchmark's table needs rich")
    result = _run("bench", "--backend", "fortran")
    assert result.returncode == 2
    assert "unknown backend" in result.stdout


def test_plot_writes_the_two_panel_figure(tmp_path):
    pytest.importorskip("matplotlib", reason="plot needs matplotlib")
    path = tmp_path / "figure.png"
    result = _run("plot", "-o", str(path), "--leak", "0.2")
    assert result.returncode == 0, result.stderr
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from anyrelu._tools.plot import figure

    fig = figure("relu", 0.2)
    assert len(fig.axes) == 2
    assert [axes.get_xlabel() for axes in fig.axes] == ["x", "x"]
    assert all(axes.get_legend() is not None for axes in fig.axes)
    low, high = fig.axes[1].get_ylim()
    assert low < 0 and high > 1  # the derivative's axis holds 0, 1 and the leak


@pytest.mark.parametrize("name", ["gelu", "hard_swish", "relu6", "leaky_relu", "squareplus"])
def test_plot_draws_any_function_with_its_derivative(tmp_path, name):
    pytest.importorskip("matplotlib", reason="plot needs matplotlib")
    path = tmp_path / f"{name}.png"
    result = _run("plot", name, "-o", str(path))
    assert result.returncode == 0, result.stderr
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from anyrelu._tools.plot import KINKS, figure

    fig = figure(name)
    assert [axes.get_title() for axes in fig.axes] == [name, f"{name}_dash, its derivative"]
    dots = [line for line in fig.axes[1].get_lines() if line.get_marker() == "o"]
    assert len(dots) >= len(KINKS.get(name, (0.0,) if name == "leaky_relu" else ()))


def test_plot_wide_leak_fits_the_axes_and_bad_input_is_one_line(tmp_path):
    pytest.importorskip("matplotlib", reason="plot needs matplotlib")
    from anyrelu._tools.plot import figure

    assert figure("relu", 2.0).axes[1].get_ylim()[1] > 2.0
    for args, message in (
        (["plot", "nonsense", "-o", str(tmp_path / "a.png")], "invalid choice"),
        (["plot", "-o", str(tmp_path / "a.png"), "--leak", "nan"], "needs a finite number"),
        (["plot", "-o", str(tmp_path / "missing" / "a.png")], "does not exist"),
    ):
        result = _run(*args)
        assert result.returncode == 2
        assert message in result.stderr and "Traceback" not in result.stderr


def test_plot_refuses_an_unknown_format(tmp_path):
    result = _run("plot", "-o", str(tmp_path / "figure.bmp"))
    assert result.returncode == 2
    assert ".png, .svg, .pdf" in result.stderr


def test_bench_repeats_each_side_for_its_own_time_budget():
    # A side 10x faster gets about 10x the calls per round, not the slower side's count.
    from anyrelu._tools.bench import Case, measure

    calls = {"ours": 0, "native": 0}

    def ours() -> None:
        calls["ours"] += 1

    def native() -> None:
        calls["native"] += 1
        time.sleep(0.002)

    result = measure(Case("numpy", "fast vs slow", "sleep", ours, native, 1.0, 1.0), rounds=2, budget_s=0.01)
    assert calls["native"] <= 2 + 2 * 5
    assert calls["ours"] > 10 * calls["native"]
    assert result.ours_s < result.native_s
