"""The command line: the demo, ``bench --quick`` and ``plot`` run and report (timings are not judged)."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import types

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "anyrelu", *args], capture_output=True, text=True, timeout=300
    )


@functools.cache
def _demo() -> subprocess.CompletedProcess[str]:
    """The demo's output, run once per test process (it imports every backend: seconds)."""
    return _run()


def test_demo_shows_both_seed_examples_on_every_available_backend():
    result = _demo()
    assert result.returncode == 0, result.stderr
    out, _, edges = result.stdout.partition("At -0.0, -inf, NaN and inf")
    for call in ("relu(x)", "relu_dash(x)", "relu(x, leak = 0.1)", "relu_dash(x, leak = 0.1)"):
        assert f"{call}  -- " in out
    assert "BACKENDS DISAGREE" not in out
    assert out.count("all backends agree") == 4
    assert re.search(r"^Available: numpy", edges, re.M)
    assert "-0 " not in out and not re.search(r"-0(\s|$)", out), "no negative zeros in the lesson's examples"
    assert "-0.05" in out and "50.2" in out


def test_demo_shows_the_lesson_beside_each_backend_at_the_special_values():
    edges = _demo().stdout.partition("At -0.0, -inf, NaN and inf")[2]
    relu_table, dash_table = (block.splitlines() for block in edges.split("\n\n")[1:3])
    header = relu_table[1].split("|")[1].split()
    assert header[0] == "lesson" and "numpy" in header
    rows = {line.split("|")[0].strip(): line.split("|")[1].split() for line in relu_table[2:]}
    assert rows["-0.0"][0] == "-0.0" and set(rows["-0.0"][1:]) == {"0.0"}  # the lesson keeps the sign
    assert rows["-inf"][0] == "nan" and set(rows["-inf"][1:]) == {"0.0"}  # the lesson's 0 * -inf
    assert set(rows["nan"]) == {"nan"}
    dtypes = {line.split("|")[0].strip(): line.split("|")[1].split() for line in dash_table[2:]}["dtype"]
    assert dtypes[0] == "int64" and "int64" not in dtypes[1:]


def test_version_prints_the_package_version():
    from anyrelu import __version__

    result = _run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"anyrelu {__version__}"


def test_demo_names_missing_backends_with_a_reason():
    out = _demo().stdout
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
    assert any(row["name"].startswith("silu_dash n=") and row["must"] is None for row in report["results"])
    assert any(row["backend"] == "dask" for row in report["results"])
    for row in report["results"]:
        assert row["value"] > 0 and (row["must"] is None or row["must"] > 0) and isinstance(row["met"], bool)
    assert report["machine"]["cpu"]
    assert "ratio" in result.stdout and "numpy" in result.stdout
    assert "lower is better" in result.stdout and "smoke run" in result.stdout  # the legend, and what --quick is


def test_bench_tables_fit_80_columns_and_plot_the_ratios(tmp_path):
    pytest.importorskip("rich", reason="the benchmark's table needs rich")
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib")
    figure, markdown = tmp_path / "ratios.png", tmp_path / "ratios.md"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "anyrelu", "bench", "--quick", "--backend", "numpy",
         "--plot", str(figure), "--markdown", str(markdown)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = markdown.read_text()
    assert "### numpy" in table and "| case | compared with | anyrelu | ratio | best | limit | |" in table
    assert " us " not in table and "µs" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "--backend", "fortran"], "unknown backend 'fortran' (see anyrelu bench --help)"),
        (["bench", "--sizes", "many"], "needs sizes such as 1e5,1e6, got 'many'"),
        (["bench", "--plot", "ratios.bmp"], "must end in .png, .svg, .pdf"),
        (["bench", "--json", "missing/out.json"], "does not exist"),
        (["plot"], "missing -o/--output"),
        (["plot", "-o", "a.png", "--leak", "abc"], "needs a finite number"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["bnech"], "unknown command 'bnech'; did you mean 'bench'?"),
        (["gelu"], "to draw it: anyrelu plot gelu -o gelu.png"),
        (["plot", "Gelu", "-o", "a.png"], "unknown name 'Gelu'; did you mean 'gelu'?"),
        (["plot", "gelu", "silu", "-o", "a.png"], "anyrelu plot: unexpected 'silu' (see anyrelu plot --help)"),
        (["accuracy", "--function", "gelux"], "unknown function 'gelux'; did you mean 'gelu'?"),
        (["accuracy", "--between", "1", "-1"], "--between needs LOW <= HIGH"),
        (["accuracy", "--between", "1", "inf"], "needs a finite number, got 'inf'"),
        (["accuracy", "--between", "1e-5", "-1e-5"], "--between needs LOW <= HIGH"),
        (["accuracy", "--sample", "1e6"], "--sample needs --between LOW HIGH"),
        (["accuracy", "--between", "-1", "1", "--sample", "10"], "needs a whole number >= 100"),
        (["plot", "gelu", "--leak", "0.3", "-o", "a.png"], "--leak is for relu and leaky_relu only"),
    ],
)
def test_every_mistake_is_one_line_and_exit_status_2(args, message):
    result = _run(*args)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert any(way in result.stderr for way in ("--help", "did you mean", "to draw it"))  # what to do next
    assert len(result.stderr.rstrip("\n")) <= 80, result.stderr  # one line of an 80-column terminal


def test_a_backend_asked_for_that_cannot_run_is_one_line_and_exit_status_1():
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed: its rows would run")
    result = _run("bench", "--quick", "--backend", "cupy")
    assert result.returncode == 1
    assert result.stderr == "anyrelu bench: cannot run cupy: not installed (pip install 'anyrelu[cupy]')\n"


def test_help_lists_the_choices():
    assert "numpy, torch, jax, dask, cupy" in " ".join(_run("bench", "--help").stdout.split())
    assert "gelu, silu, softplus" in " ".join(_run("plot", "--help").stdout.split())


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
    import matplotlib.pyplot as plt

    from anyrelu._tools.cli import main
    from anyrelu._tools.plot import KINKS, figure

    path = tmp_path / f"{name}.png"
    # in this process: test_plot_writes_the_two_panel_figure runs the command as a user does
    assert main(["plot", name, "-o", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    fig = figure(name)
    assert [axes.get_title() for axes in fig.axes] == [name, f"{name}_dash, its derivative"]
    dots = [line for line in fig.axes[1].get_lines() if line.get_marker() == "o"]
    assert len(dots) >= len(KINKS.get(name, (0.0,) if name == "leaky_relu" else ()))
    plt.close(fig)


def test_plot_wide_leak_fits_the_axes_and_bad_input_is_one_line(tmp_path):
    pytest.importorskip("matplotlib", reason="plot needs matplotlib")
    from anyrelu._tools.plot import figure

    assert figure("relu", 2.0).axes[1].get_ylim()[1] > 2.0
    for args, message in (
        (["plot", "nonsense", "-o", str(tmp_path / "a.png")], "unknown name 'nonsense'"),
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


def test_bench_repeats_each_side_for_its_own_time_budget(monkeypatch):
    # A side 8x faster gets 8x the calls per round, not the slower side's count. The clock is the
    # calls' own (a side advances it by its cost): a busy machine cannot change the counts.
    from anyrelu._tools import bench

    clock = [0.0]
    calls = {"ours": 0, "native": 0}

    def ours() -> None:
        calls["ours"] += 1
        clock[0] += 2.0**-12

    def native() -> None:
        calls["native"] += 1
        clock[0] += 2.0**-9

    monkeypatch.setattr(bench, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    case = bench.Case("numpy", "fast vs slow", "clock", ours, native, 1.0, 1.0)
    result = bench.measure(case, rounds=2, budget_s=2.0**-6)
    # a warm-up call, a call that sizes the rounds, then 2 rounds of budget / cost calls each
    assert calls == {"ours": 2 + 2 * 64, "native": 2 + 2 * 8}
    assert (result.ours_s, result.native_s, result.value, result.best) == (2.0**-12, 2.0**-9, 0.125, 0.125)


def test_bench_ratio_is_the_median_of_the_rounds_own_ratios(monkeypatch):
    """The ratio pairs each round of anyrelu with the native round beside it (the median of their
    ratios); best is the best round of one side over the best of the other. Here every round is
    1/2 but one, where native alone was lucky: 1/2 by the median, 1 by the best rounds."""
    from anyrelu._tools import bench

    clock = [0.0]
    # a warm-up call and a call that sizes the rounds (budget / cost < 1: one call a round), then 5 rounds
    ours_costs = iter([1.0, 1.0, 2.0, 8.0, 2.0, 8.0, 8.0])
    native_costs = iter([1.0, 1.0, 4.0, 16.0, 4.0, 16.0, 2.0])

    def ours() -> None:
        clock[0] += next(ours_costs)

    def native() -> None:
        clock[0] += next(native_costs)

    monkeypatch.setattr(bench, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    case = bench.Case("numpy", "paired rounds", "clock", ours, native, 1.0, 1.0)
    result = bench.measure(case, rounds=5, budget_s=0.5)
    assert (result.value, result.best) == (0.5, 1.0)
    assert (result.ours_s, result.native_s) == (8.0, 4.0)  # each side's median round
    assert result.met


def test_gpu_rows_give_the_bandwidth_reached():
    from anyrelu._tools.bench import Result, _cells

    row = Result("cupy", "relu n=2^27", "copy", "ratio", 300e-6, 250e-6, 1.2, 1 / 0.85, 1 / 0.9, False, 2**30)
    assert _cells(row, "MISSED")[2] == "300 µs, 3579 GB/s"
    assert _cells(row, "MISSED")[3:] == ["1.20", "", "1.18", "MISSED"]


def test_a_row_shown_for_comparison_has_no_limit_and_no_verdict(tmp_path):
    """Another library's operation (CuPy's own maximum) is measured beside anyrelu's rows but held to nothing."""
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    from anyrelu._tools.bench import Case, Result, _cells, machine, measure, plot

    case = Case("numpy", "np.maximum(x, 0)", "copy", lambda: 2, lambda: 1, None, 1.0)
    result = measure(case, rounds=2, budget_s=1e-4)
    assert result.met and result.must is None
    assert _cells(result, "MISSED")[5:] == ["--", ""]
    held = Result("numpy", "relu", "np.maximum", "ratio", 2.0, 1.0, 2.0, 1.5, 1.0, False)
    plot([result, held], machine(), str(tmp_path / "rows.png"))
    assert (tmp_path / "rows.png").stat().st_size > 0
