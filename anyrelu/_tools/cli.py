"""The ``anyrelu`` command: the demo (default), ``bench`` and ``plot``."""

from __future__ import annotations

import argparse
import math
import sys

from .plot import NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anyrelu",
        description="Without a command: run the lesson's examples on every installed backend.",
    )
    commands = parser.add_subparsers(dest="command")
    bench = commands.add_parser("bench", help="time anyrelu against each backend's native operation")
    bench.add_argument("--backend", action="append", help="only this backend (repeatable)")
    bench.add_argument("--sizes", help="comma-separated array sizes for the large cases, e.g. 1e5,1e6")
    bench.add_argument("--quick", action="store_true", help="few rounds and small sizes: checks that it runs")
    bench.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    bench.add_argument("--markdown", metavar="FILE", help="also write the table to FILE as Markdown")
    plot = commands.add_parser("plot", help="draw a function and its derivative (default: the lesson's figure)")
    plot.add_argument("name", nargs="?", default="relu", choices=NAMES, metavar="NAME",
                      help=f"the function: {', '.join(NAMES)} (default: relu and leaky relu)")  # fmt: skip
    plot.add_argument("-o", "--output", required=True, metavar="FILE", help="a .png, .svg or .pdf file")
    plot.add_argument("--leak", type=_finite, default=0.1, help="the leaky relu's slope (default 0.1)")
    return parser


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"needs a finite number, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
