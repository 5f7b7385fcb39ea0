"""The documentation: every code block runs, the printed output shown is what it prints, every
command line shown parses, the site builds with -W and loads nothing from another host, and the
API reference and the gallery cover every public function."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import TORCH_GUARDS_ON_PYTHON_3_13_0, TORCH_JIT_DEPRECATED

import anyrelu

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
if not (DOCS / "conf.py").exists():
    pytest.skip("the documentation is not beside the tests (an unpacked wheel?)", allow_module_level=True)
PAGES = sorted([*DOCS.glob("*.md"), ROOT / "README.md"])
FUNCTIONS = [name for name in anyrelu.__all__ if name not in ("__version__", "get")]  # the activations
BLOCK = re.compile(r"^```(python|bash|text)\n(.*?)^```\n", re.M | re.S)


def _blocks(page: Path) -> list[tuple[str, str]]:
    return BLOCK.findall(page.read_text())


def _missing_library(code: str) -> str | None:
    for name in re.findall(r"^\s*(?:import|from) (\w+)", code, re.M):
        if importlib.util.find_spec(name) is None:
            return name
    return None


@pytest.mark.thread_unsafe
# torch's own warnings when docs/in_a_model.md compiles a model: a graph break with tensors that
# require grad, inductor importing torch.jit.script, and the guards of a module on Python 3.13.0
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")
@TORCH_JIT_DEPRECATED
@TORCH_GUARDS_ON_PYTHON_3_13_0
@pytest.mark.parametrize("page", [p for p in PAGES if any(kind == "python" for kind, _ in _blocks(p))],
                         ids=lambda p: p.name)  # fmt: skip
def test_every_python_block_runs_and_prints_what_the_page_shows(page, tmp_path, monkeypatch):
    """Blocks run in order in one namespace; a block under ``if __name__ == "__main__":`` runs as a
    script, as the page says to; a ``text`` block after a block is that block's printed output."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs"}
    blocks = _blocks(page)
    ran = 0
    for i, (kind, code) in enumerate(blocks):
        if kind != "python":
            continue
        if (missing := _missing_library(code)) is not None:
            assert missing == "cupy", f"{page.name}: only the GPU's block may be left out, not {missing}'s"
            continue  # the CuPy block needs a CUDA device: tests/test_devices.py runs CuPy where there is one
        if "import keras" in code:
            continue  # the Keras script: test_the_keras_example_trains_on_the_jax_and_the_torch_backend runs it
        if '__name__ == "__main__"' in code:
            script = tmp_path / "example.py"
            script.write_text(code)
            run = subprocess.run([sys.executable, "-W", "error", str(script)], capture_output=True, text=True,
                                 timeout=300)  # fmt: skip
            assert run.returncode == 0, run.stderr
            printed = run.stdout
        else:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                exec(compile(code, str(page), "exec"), namespace)
            printed = out.getvalue()
        ran += 1
        if i + 1 < len(blocks) and blocks[i + 1][0] == "text":
            assert printed == blocks[i + 1][1], f"{page.name}: block {i} printed {printed!r}"
    assert ran >= 1


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_keras_example_trains_on_the_jax_and_the_torch_backend(backend, tmp_path):
    """The Keras script of docs/in_a_model.md, with KERAS_BACKEND set for its process."""
    for needed in ("keras", backend):
        if importlib.util.find_spec(needed) is None:
            pytest.skip(f"the Keras example on {backend} needs {needed}")
    (code,) = [code for kind, code in _blocks(DOCS / "in_a_model.md") if kind == "python" and "keras" in code]
    script = tmp_path / "keras_example.py"
    script.write_text(code)
    run = subprocess.run([sys.executable, "-W", "error", str(script)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "KERAS_BACKEND": backend})  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == "Keras: accuracy above 0.9: True\n"


def test_the_tutorial_runs_on_every_backend():
    for needed in ("jax", "torch"):
        if importlib.util.find_spec(needed) is None:
            pytest.skip(f"the tutorial's later steps need {needed}")
    shown = "".join(code for kind, code in _blocks(DOCS / "tutorial.md") if kind == "text")
    assert "NumPy: loss" in shown and "JAX:   loss" in shown and "torch: loss" in shown
    assert "hand-written gradients == jax.grad" in shown


def _commands() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        for kind, code in _blocks(page):
            for line in code.splitlines() if kind == "bash" else ():
                line = line.split("#", 1)[0].strip()
                if line.startswith("python -m anyrelu"):
                    found.append((page.name, shlex.split(line)[3:]))
    return found


@pytest.mark.parametrize(("page", "argv"), _commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_every_command_line_shown_parses(page, argv, tmp_path):
    """Every ``python -m anyrelu ...`` line of the docs is a valid command; the quick ones also run."""
    from anyrelu._tools.cli import _parser

    argv = [str(tmp_path / a) if re.fullmatch(r"[\w.-]+\.(png|md|json)", a) else a for a in argv]
    if argv == ["--version"]:
        with pytest.raises(SystemExit) as exit_:
            _parser().parse_args(argv)
        assert exit_.value.code == 0
        return
    args = _parser().parse_args(argv)
    if args.command == "plot":  # the demo (no command) runs in tests/test_cli.py
        run = subprocess.run([sys.executable, "-W", "error", "-m", "anyrelu", *argv], capture_output=True, text=True,
                             timeout=300)  # fmt: skip
        assert run.returncode == 0, run.stderr


def test_the_api_reference_documents_every_function_completely():
    api = (DOCS / "api.md").read_text()
    for name in FUNCTIONS:
        assert f".. autofunction:: {name}\n" in api, name
        doc = getattr(anyrelu, name).__doc__
        for section in (".. math::", "Parameters\n", "Returns\n", "Raises\n", "See Also\n", "Examples\n", ">>> "):
            assert section in doc, f"{name}'s docstring has no {section.strip()}"


def test_the_gallery_draws_every_function():
    from anyrelu._tools.plot import NAMES

    drawn = re.findall(r'figure\("(\w+)"\)', (DOCS / "gallery.md").read_text())
    assert sorted(drawn) == sorted(NAMES) == sorted(name for name in FUNCTIONS if not name.endswith("_dash"))


def test_pages_link_the_functions_they_name():
    """A function named alone in a code span is a link to its API entry ({func}`~anyrelu.name`)."""
    for page in DOCS.glob("*.md"):
        text = BLOCK.sub("", page.read_text())
        bare = sorted({name for name in re.findall(r"(?<![}\w])`(\w+)`", text) if name in FUNCTIONS})
        assert not bare, f"{page.name} names {bare} without linking them"


class _Assets(HTMLParser):
    """The scripts, stylesheets, images and frames a page loads (links to follow are not loads)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio") and attr.get("src"):
            self.loads.append(attr["src"] or "")
        if tag == "link" and attr.get("href") and "stylesheet" in (attr.get("rel") or "") + "preload icon":
            self.loads.append(attr["href"] or "")


@pytest.mark.thread_unsafe
def test_the_site_builds_with_no_warning_and_loads_nothing_from_another_host(tmp_path):
    pytest.importorskip("sphinx", reason="the site needs the docs extra: pip install '.[docs]'")
    out = tmp_path / "html"
    build = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(DOCS), str(out)],
                           capture_output=True, text=True, timeout=900)  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    remote = re.compile(r"^(https?:)?//", re.I)
    pages = sorted(out.glob("*.html"))
    assert {p.stem for p in pages} >= {"index", "api", "gallery", "benchmarks", "development", "changelog"}
    for page in pages:
        assets = _Assets()
        assets.feed(page.read_text())
        assert assets.loads, page.name
        assert not [src for src in assets.loads if remote.match(src)], page.name
        for src in assets.loads:
            assert (page.parent / src.split("?")[0]).exists(), f"{page.name} loads {src}, which is not in the site"
    for sheet in out.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import\s+['\"]?(https?:)?//", sheet.read_text()), sheet
    for page in ("api", "tutorial"):  # the pages with math load MathJax from the site itself
        html = (out / f"{page}.html").read_text()
        assert '<script defer="defer" src="_static/mathjax/tex-chtml.js">' in html
        assert "\\begin{cases}" in html or "\\frac" in html
    assert (out / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert "copybutton" in (out / "index.html").read_text()
    gallery = set(re.findall(r'<img[^>]* src="(_images/[^"]+\.png)"', (out / "gallery.html").read_text()))
    assert len(gallery) == len(re.findall(r"figure\(", (DOCS / "gallery.md").read_text())), "one image per figure"
    assert re.search(r'<img[^>]* src="_images/tutorial_fit\.png"', (out / "tutorial.html").read_text())
