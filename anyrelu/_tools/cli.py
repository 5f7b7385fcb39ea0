"""The ``anyrelu`` command: the demo (default), ``bench`` and ``plot``.

Every mistake in a command line is one line on stderr and exit status 2 (argparse's convention);
a missing optional library is one line and exit status 1.
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from .. import __version__
from .bench import CASES
from .plot import FORMATS, NAMES

BACKENDS = tuple(CASES)


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake reported in one short line (usage is one --help away), and a
    suggestion for a misspelt command, name or choice."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse's test for a negative number (is -1.5 a value or an option?) knows no exponent:
        # it read --between's -7e-05 as an option
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$", re.IGNORECASE)

    def error(self, message: str) -> NoReturn:
        choice = re.match(r"argument (.+?): invalid choice: '(.*?)' \(choose from (.*)\)$", message)
        if choice:
            argument, got, choices = choice.groups()
            names = re.findall(r"'([^']*)'", choices)
            close = difflib.get_close_matches(got.lower(), names, n=1, cutoff=0.5)
            what = "command" if argument.startswith("{") else argument.lstrip("-").lower()
            message = f"unknown {what} {got!r}"
            if what == "command" and got.lower() in NAMES:  # a function's name where a command goes
                self.exit(
                    2, f"{self.prog}: {message}; to draw it: {self.prog} plot {got.lower()} -o {got.lower()}.png\n"
                )
            if close:
                self.exit(2, f"{self.prog}: {message}; did you mean {close[0]!r}?\n")
        message = re.sub(r"^argument (\S+): ", r"\1: ", message)
        message = message.replace("the following arguments are required:", "missing")
        line = f"{self.prog}: {message} (see {self.prog} --help)"
        if len(line) > 80:  # one line of an 80-column terminal, where it can be
            line = f"{self.prog}: {message} (see --help)"
        self.exit(2, line + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="anyrelu",
        description="Without a command: the lesson's examples, and the values at -0.0, -inf and NaN, "
        "on every installed backend, side by side with the lesson's np.where.",
    )
    parser.add_argument("--version", action="version", version=f"anyrelu {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{accuracy,bench,plot}")
    bench = commands.add_parser(
        "bench",
        help="time anyrelu against each backend's own operation",
        description="Time anyrelu against each backend's own operation, side by side in one run. Every ratio is "
        "anyrelu's time / the native time: lower is better.",
    )
    backends = ", ".join(BACKENDS)
    bench.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        metavar="NAME",
        help=f"only this backend, repeatable: {backends} (default: every installed one)",
    )
    bench.add_argument("--sizes", type=_sizes, metavar="N,N", help="array sizes of the large NumPy rows, e.g. 1e5,1e6")
    smoke = "a smoke run (2 rounds, small sizes): checks that every row runs, measures nothing"
    bench.add_argument("--quick", action="store_true", help=smoke)
    bench.add_argument("--json", type=_output(".json"), metavar="FILE", help="also write the results to FILE")
    bench.add_argument("--markdown", type=_output(".md"), metavar="FILE", help="also write the tables to FILE")
    bench.add_argument("--plot", type=_output(*FORMATS), metavar="FILE", help="also draw the ratios (.png, .svg, .pdf)")
    _accuracy_parser(commands)
    plot = commands.add_parser(
        "plot", help="draw a function and its derivative", description="Draw a function and its derivative."
    )
    names = ", ".join(NAMES)
    plot.add_argument(
        "name",
        nargs="?",
        default="relu",
        choices=NAMES,
        metavar="NAME",
        help=f"one of {names} (default: relu, drawn with leaky relu as in the lesson)",
    )
    plot.add_argument(
        "-o", "--output", required=True, type=_output(*FORMATS), metavar="FILE", help="a .png, .svg or .pdf file"
    )
    plot.add_argument(
        "--leak",
        type=_finite,
        default=None,
        help="the Leaky ReLU's slope, for relu (default 0.1, the lesson's figure) and leaky_relu (default 0.01)",
    )
    return parser


def _accuracy_parser(commands: Any) -> None:
    from .accuracy import CASES, DTYPES, SCREENED

    accuracy = commands.add_parser(
        "accuracy",
        help="screen every function against a high-precision oracle, on every CPU code path",
        description="A dense screen of every function and derivative against an oracle in extended precision, on "
        "every installed backend, dtype and CPU code path (NumPy's SIMD targets, torch's ATen capabilities). "
        "Exit status 1 if any point is beyond the contract's bound.",
    )
    names = sorted({name for name, _ in CASES})
    accuracy.add_argument(
        "--backend",
        action="append",
        choices=SCREENED,
        metavar="NAME",
        help=f"only this backend, repeatable: {', '.join(SCREENED)} (default: every installed one)",
    )
    accuracy.add_argument(
        "--dtype",
        action="append",
        choices=DTYPES,
        metavar="DTYPE",
        help=f"only this dtype, repeatable: {', '.join(DTYPES)}",
    )
    accuracy.add_argument(
        "--function",
        action="append",
        choices=names,
        metavar="NAME",
        help="only this function (and its derivative), repeatable",
    )
    accuracy.add_argument(
        "--points", type=_count, default=4_000_000, help="float32 points per function (float64: a quarter; default 4e6)"
    )
    accuracy.add_argument("--peers", action="store_true", help="also screen jax.nn and torch.nn.functional")
    accuracy.add_argument(
        "--finite",
        action="store_true",
        help="finite x only: a peer's accuracy apart from its answers at ±inf and NaN",
    )
    accuracy.add_argument(
        "--between",
        nargs=2,
        type=_finite,
        metavar=("LOW", "HIGH"),
        help="every float of each dtype in [LOW, HIGH] instead of the screen's points, e.g. every float32 "
        "near a worst point (float32 in [1, 2]: 8.4 million)",
    )
    accuracy.add_argument(
        "--sample",
        type=_count,
        metavar="N",
        help="with --between: N floats of each dtype drawn at random from the window (both ends among "
        "them) where it holds more, e.g. float64 near a worst point",
    )
    accuracy.add_argument(
        "--only-this-path",
        action="store_true",
        help="only the CPU code path this process picks, not every one the CPU has",
    )
    accuracy.add_argument(
        "--exhaustive",
        action="store_true",
        help="every float32 input (2^32) of one --function on one --backend (hours)",
    )
    accuracy.add_argument(
        "--start",
        type=int,
        default=0,
        choices=range(256),
        metavar="CHUNK",
        help="with --exhaustive: the chunk (of 256) to start from, to resume a stopped run",
    )
    accuracy.add_argument("--json", type=_output(".json"), metavar="FILE", help="also write every row to FILE")
    accuracy.add_argument("--markdown", type=_output(".md"), metavar="FILE", help="also write the table to FILE")
    accuracy.add_argument("--this-path-only", metavar="LABEL", help=argparse.SUPPRESS)  # a child process


def _count(text: str) -> int:
    try:
        value = int(float(text))
    except (ValueError, OverflowError):
        value = 0
    if value < 100:
        raise argparse.ArgumentTypeError(f"needs a whole number >= 100, got {text!r}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"needs a finite number, got {text!r}")
    return value


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(part)) for part in text.split(",")]
    except (ValueError, OverflowError):
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"needs sizes such as 1e5,1e6, got {text!r}")
    return sizes


def _output(*suffixes: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        path = Path(text)
        if path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text!r} must end in {', '.join(suffixes)}")
        if not path.parent.is_dir():
            raise argparse.ArgumentTypeError(f"the folder {str(path.parent)!r} does not exist")
        return text

    return check


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported by the command they were given to, whose --help lists what it takes
        prog = f"anyrelu {args.command}" if args.command else "anyrelu"
        parser.exit(2, f"{prog}: unexpected {' '.join(extra)!r} (see {prog} --help)\n")
    if args.command == "accuracy":
        from .accuracy import main as accuracy

        return accuracy(args)
    if args.command == "bench":
        from .bench import main as bench

        return bench(args)
    if args.command == "plot":
        from .plot import main as plot

        return plot(args.output, args.name, args.leak)
    from .demo import main as demo

    return demo()


if __name__ == "__main__":
    sys.exit(main())
