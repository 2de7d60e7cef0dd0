"""The ``forwardgrad`` console script: ``bench``, ``profile`` and ``functions``.

Bad input ends with one line on stderr and a non-zero exit status, never a traceback; the
result files only appear, atomically, once complete.
"""

import argparse
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from forwardgrad import benchmark, objectives, plotting, profiles, protocols, results
from forwardgrad.protocols import BenchmarkError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line on stderr."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _number(convert, accept, expected):
    """An argparse type: ``convert(text)``, kept when ``accept(value)``, else one-line error."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_natural = _number(int, lambda v: v >= 0, "an integer >= 0")
_positive_float = _number(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
_fraction = _number(float, lambda v: 0 < v <= 1, "a number in (0, 1]")
_decay = _number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def _name_list(text):
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return names


def _dim_list(text):
    return tuple(_positive_int(n.strip()) for n in _name_list(text))


def _parser():
    parser = _Parser(prog="forwardgrad", description="Forward gradients benchmark (Belouze 2022).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    bench = commands.add_parser("bench", help="run a protocol over a grid into a CSV table")
    bench.add_argument("--protocol", default="paper", choices=list(protocols.PROTOCOLS))
    bench.add_argument("--functions", type=_name_list, help="comma-separated names, 'paper' or 'all'")
    bench.add_argument("--dims", type=_dim_list, help="comma-separated dimensions, e.g. 2,10,100")
    bench.add_argument("--optimizers", type=_name_list, help="e.g. sgd,clipped_sgd,adam,adabelief")
    bench.add_argument("--gradients", type=_name_list, help="e.g. true,forward,projected,guided,fd")
    bench.add_argument("--tangent", help="tangent law of the stochastic oracles (default: rademacher)")
    bench.add_argument("--k", type=_positive_int, help="tangents per step of forward, projected, guided, fd")
    bench.add_argument("--eps", type=_positive_float, help="finite-difference step of fd (default 1e-4)")
    bench.add_argument("--alpha", type=_fraction, help="guided: isotropic share of the covariance, in (0, 1]")
    bench.add_argument("--beta", type=_decay, help="guided: decay of the guess's moving average, in [0, 1)")
    bench.add_argument("--starts", type=_positive_int, help="starting points per function")
    bench.add_argument("--repeats", type=_positive_int, help="repeats of a stochastic solver per start")
    bench.add_argument("--max-steps", type=_positive_int, help="budget of updates per run")
    bench.add_argument("--lr", type=_positive_float, help="learning rate")
    bench.add_argument("--seed", type=_natural, default=0, help="master seed (default 0)")
    bench.add_argument("--engine", choices=["jax", "autograd"], help="default: jax when installed")
    bench.add_argument("--jobs", type=_positive_int, default=1, help="loky worker processes")
    bench.add_argument("--parallel", choices=list(benchmark.PARALLEL_BACKENDS), default="loky")
    bench.add_argument("--scheduler", help="Dask scheduler address for --parallel dask")
    bench.add_argument("--out", type=Path, help="result CSV (default: results/<protocol>.csv)")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")

    profile = commands.add_parser("profile", help="draw a profile of a result table")
    profile.add_argument("table", type=Path, help="a CSV written by `forwardgrad bench`")
    profile.add_argument("--kind", default="performance", choices=sorted(_profile_kinds()))
    profile.add_argument("--out", type=Path, required=True, help="figure file, e.g. profile.png")
    profile.add_argument("--target", type=_positive_float, help="target gap above f* (default: the table's)")
    profile.add_argument("--bootstrap", type=_natural, default=0, help="bootstrap resamples for bands")
    profile.add_argument("--seed", type=_natural, default=0, help="seed of the bootstrap")

    functions = commands.add_parser("functions", help="list the test functions")
    functions.add_argument("--dim", type=_positive_int, help="only functions accepting this dimension")
    return parser


def _profile_kinds():
    return ("performance", "data", "accuracy", "ecdf")


def _bench(args):
    overrides = {
        "functions": args.functions,
        "dims": args.dims,
        "optimizers": args.optimizers,
        "gradients": args.gradients,
        "tangent": args.tangent,
        "starts": args.starts,
        "repeats": args.repeats,
        "max_steps": args.max_steps,
        "lr": args.lr,
        "k": args.k,
        "eps": args.eps,
        "alpha": args.alpha,
        "beta": args.beta,
    }
    p = protocols.protocol(args.protocol, **overrides)
    out = args.out or Path("results") / f"{args.protocol}.csv"
    if args.scheduler and args.parallel != "dask":
        raise BenchmarkError("--scheduler needs --parallel dask")
    benchmark.plan(p)  # bad names and dimensions fail here, before anything is printed
    if not args.quiet:
        print(protocols.summary(p), file=sys.stderr)
    try:
        table = benchmark.sweep(
            p, seed=args.seed, engine=args.engine, jobs=args.jobs, out=out,
            parallel=args.parallel, scheduler=args.scheduler, progress=not args.quiet,
        )
    except KeyboardInterrupt:
        print(f"forwardgrad: interrupted; finished chunks are kept in {results.parts_dir(out)}/, "
              "rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    side = results.sidecar_path(out)
    print(f"{len(table)} runs ({table['engine'].iloc[0]} engine) -> {out} and {side.name}")
    return 0


def _profile(args):
    # pyplot picks its backend when first imported: choose the file-only Agg backend before that
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = results.load(args.table)
    scoring = protocols.scoring(protocols.PROTOCOLS[table["protocol"].iloc[0]])
    fig = plt.figure()
    formats = fig.canvas.get_supported_filetypes()
    plt.close(fig)
    suffix = args.out.suffix.lstrip(".").lower()
    if suffix not in formats:
        raise BenchmarkError(
            f"cannot save a figure as {args.out.name!r}; use one of .{', .'.join(sorted(formats))}"
        )
    result = profiles.profile(table, args.kind, target=args.target, bootstrap=args.bootstrap,
                              rng=np.random.default_rng(args.seed), **scoring)
    axes = plotting.plot_by_dim(result)
    fig = axes[0].figure
    fig.suptitle(f"{args.kind} profile, {table['protocol'].iloc[0]} protocol ({table['engine'].iloc[0]})")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.stem}.tmp{os.getpid()}.{suffix}")
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, args.out)
    finally:
        tmp.unlink(missing_ok=True)
        plt.close(fig)
    print(f"{args.kind} profile of {len(table)} runs -> {args.out}")
    return 0


def _functions(args):
    table = objectives.describe(d=args.dim)
    if table.empty:
        raise BenchmarkError(f"no test function accepts dimension {args.dim}")
    print(table.to_string(index=False))
    return 0


COMMANDS = {"bench": _bench, "profile": _profile, "functions": _functions}


def main(argv=None):
    """Entry point of the ``forwardgrad`` console script; returns the exit status.

    Errors are one line on stderr (exit 1; a usage error exits 2), and so is each warning.
    """
    args = _parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            status = COMMANDS[args.command](args)
        except BrokenPipeError:  # e.g. `forwardgrad functions | head`
            sys.stdout = open(os.devnull, "w")
            status = 0
        except (BenchmarkError, ValueError, KeyError, OSError, ImportError) as err:
            message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            print(f"forwardgrad {args.command}: error: {message}", file=sys.stderr)
            status = 1
    for warning in caught if status == 0 else ():
        if issubclass(warning.category, UserWarning):
            print(f"forwardgrad {args.command}: warning: {warning.message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
