"""The ``forwardgrad`` console script: ``bench``, ``profile`` and ``functions``.

``bench`` takes your own optimizers, estimators, tangent law and test functions by import path,
``--optimizers sgd,adam,mypkg.mymodule:lion`` (see :mod:`forwardgrad.plugins`); they are
checked before the first run.

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

from forwardgrad import benchmark, coco, engines, objectives, optimizers, oracles, plotting, profiles, protocols, results
from forwardgrad.objectives import bbob
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


def _user_cache():
    """The user's cache folder for forwardgrad: ``$XDG_CACHE_HOME/forwardgrad``, else ``~/.cache/forwardgrad``."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "forwardgrad"


def _csv(values):
    return ",".join(str(v) for v in values)


def _parser():
    parser = _Parser(prog="forwardgrad", description="Forward gradients benchmark (Belouze 2022).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    paper = protocols.PROTOCOLS["paper"]
    bench = commands.add_parser(
        "bench", help="run a protocol over a grid into a CSV table",
        description="Run a benchmark protocol over its grid into a CSV table and its JSON sidecar. Every "
                    "option left out keeps the protocol's value, shown here for the paper protocol.")
    bench.add_argument("--suite", choices=["bbob"],
                       help="run COCO's bbob suite instead of a protocol: writes COCO's data folder (one "
                            "sub-folder per solver, for cocopp) and the run table; --functions takes f1..f24 "
                            "(default all), --dims defaults to 2,5,10,20, the budget is --max-steps or "
                            f"{coco.STEPS_PER_DIM} d steps, the engine autograd")
    bench.add_argument("--instances", type=_dim_list, help="bbob instances (default: 1-15)")
    bench.add_argument("--protocol", default="paper", choices=list(protocols.PROTOCOLS),
                       help="the protocol whose fields the other options override (default: paper)")
    bench.add_argument("--functions", type=_name_list,
                       help="comma-separated names or import paths package.module:attribute of your own "
                            "functions, or a selection: paper, text, all (default: paper)")
    bench.add_argument("--dims", type=_dim_list, help=f"comma-separated dimensions (default: {_csv(paper.dims)})")
    bench.add_argument("--optimizers", type=_name_list,
                       help=f"{_csv(optimizers.OPTIMIZERS)}, or import paths package.module:attribute of your own "
                            f"(default: {_csv(paper.optimizers)})")
    bench.add_argument("--gradients", type=_name_list,
                       help=f"{_csv(oracles.ORACLES)}, or import paths of your own estimators "
                            f"(default: {_csv(paper.gradients)})")
    bench.add_argument("--tangent", help=f"tangent law of the stochastic oracles, a name or an import path "
                                         f"(default: {paper.arm.tangent})")
    bench.add_argument("--k", type=_positive_int,
                       help=f"tangents per step of forward, projected, guided, fd (default: {paper.arm.k})")
    bench.add_argument("--eps", type=_positive_float, help=f"finite-difference step of fd (default: {paper.arm.eps:g})")
    bench.add_argument("--alpha", type=_fraction,
                       help=f"guided: isotropic share of the covariance, in (0, 1] (default: {paper.arm.alpha:g})")
    bench.add_argument("--beta", type=_decay,
                       help=f"guided: decay of the guess's moving average, in [0, 1) (default: {paper.arm.beta:g})")
    bench.add_argument("--starts", type=_positive_int, help=f"starting points per function (default: {paper.starts})")
    bench.add_argument("--repeats", type=_positive_int,
                       help=f"repeats of a stochastic solver per start (default: {paper.repeats})")
    bench.add_argument("--max-steps", type=_positive_int, help=f"budget of updates per run (default: {paper.max_steps:,})")
    bench.add_argument("--lr", type=_positive_float, help=f"learning rate (default: {paper.lr:g})")
    bench.add_argument("--seed", type=_natural, default=0, help="master seed (default: 0)")
    bench.add_argument("--engine", choices=["jax", "autograd"], help="default: jax when installed, else autograd")
    bench.add_argument("--jobs", type=_positive_int, default=1,
                       help="worker processes (default: 1; never more than the chunks of the grid)")
    bench.add_argument("--parallel", choices=list(benchmark.PARALLEL_BACKENDS), default="loky",
                       help="loky processes on this machine, or a Dask cluster (default: loky)")
    bench.add_argument("--scheduler", help="Dask scheduler address for --parallel dask")
    bench.add_argument("--out", type=Path, help="result CSV (default: results/<protocol>.csv)")
    bench.add_argument("--overwrite", action="store_true",
                       help="replace a finished --out of another configuration (default: refuse)")
    bench.add_argument("--no-compile-cache", action="store_true",
                       help="do not keep JAX's compiled loops between runs (default: keep them in "
                            "$FORWARDGRAD_JAX_CACHE, else ~/.cache/forwardgrad/jax)")
    bench.add_argument("--quiet", action="store_true", help="no announcement and no progress bar")

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


def _bbob_function(name):
    return bbob.parse(name if str(name).startswith(bbob.PREFIX) else bbob.PREFIX + str(name))[0]


def _bench_bbob(args):
    """``bench --suite bbob``: :func:`forwardgrad.coco.run` per (function, dimension), the COCO
    folder and the run table (CSV) in ``--out`` (default ``results/bbob``)."""
    import pandas as pd

    functions = tuple(_bbob_function(n) for n in args.functions) if args.functions else bbob.FUNCTIONS
    dims = args.dims or coco.DIMS
    if min(dims) < 2:
        raise BenchmarkError("bbob functions need d >= 2")
    options = {"instances": args.instances or bbob.INSTANCES, "lr": args.lr or 0.01, "seed": args.seed}
    if args.optimizers:
        options["optimizers_"] = args.optimizers
    if args.gradients:
        options["gradients"] = args.gradients
    for name in options.get("gradients", ()):
        coco.step_cost(name, 2)  # only true and forward have a COCO cost
    for name in options.get("optimizers_", ()):
        protocols.validate(protocols.PROTOCOLS["paper"]._replace(optimizers=(name,)))
    out = args.out or Path("results") / "bbob"
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise BenchmarkError(f"{out} exists and is not empty: pass --overwrite or another --out")
    parts = []
    for f in functions:
        for d in dims:
            steps = args.max_steps or coco.STEPS_PER_DIM * d
            if not args.quiet:
                print(f"forwardgrad bench: bbob f{f} d = {d}, {steps} steps", file=sys.stderr)
            parts.append(coco.run(f, d, steps=steps, engine=args.engine or "autograd", **options))
    table = pd.concat([t for t, _ in parts], ignore_index=True)
    traces = [tr for _, trs in parts for tr in trs]
    folders = coco.write(out, table, traces)
    table.to_csv(out / "runs.csv", index=False)
    print(f"{len(table)} runs: COCO data for {len(folders)} solvers in {out}/ (cocopp.main('{out}/*')), "
          f"run table {out / 'runs.csv'}")
    return 0


def _bench(args):
    if args.suite == "bbob":
        return _bench_bbob(args)
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
    # before any JAX import, here and in the worker processes, which inherit the environment
    if args.no_compile_cache:
        os.environ[engines.JAX_CACHE_ENV] = ""
    elif engines.compilation_cache_dir() is None:
        os.environ[engines.JAX_CACHE_ENV] = str(_user_cache() / "jax")
    if args.scheduler and args.parallel != "dask":
        raise BenchmarkError("--scheduler needs --parallel dask")
    sweep_plan = benchmark.plan(p)  # bad names and dimensions fail here, before anything is printed
    results.check_output(out)
    if not args.quiet:
        runs = len(sweep_plan.chunks) * benchmark.runs_per_chunk(p)
        print(f"forwardgrad bench: {runs:,} runs in {len(sweep_plan.chunks)} chunks of (function, dimension), "
              f"at most {p.max_steps:,} steps each -> {out}", file=sys.stderr)
        print(protocols.summary(p), file=sys.stderr)
    try:
        table = benchmark.sweep(
            p, seed=args.seed, engine=args.engine, jobs=args.jobs, out=out, parallel=args.parallel,
            scheduler=args.scheduler, progress=not args.quiet, overwrite=args.overwrite,
        )
    except KeyboardInterrupt:
        print(f"forwardgrad bench: interrupted; finished chunks are kept in {results.parts_dir(out)}/, "
              "rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    side = results.sidecar_path(out)
    how = "reused the finished table" if table.attrs.get("reused") else "wrote"
    print(f"{len(table)} runs ({table['engine'].iloc[0]} engine): {how} {out} and {side}")
    return 0


def _profile(args):
    # pyplot picks its backend when first imported: choose the file-only Agg backend before that
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plotting.use_style()
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


def run(argv=None):
    """Run one command; returns the exit status (0, 1 for an error, 2 for a usage error, 130 when
    interrupted). Errors and warnings are one line each on stderr, never a traceback."""
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
        except KeyboardInterrupt:
            print(f"forwardgrad {args.command}: interrupted", file=sys.stderr)
            status = EXIT_INTERRUPTED
        except Exception as err:  # a bug: still one line, with what to report
            print(f"forwardgrad {args.command}: internal error: {type(err).__name__}: {err} "
                  "(please report it with the command line)", file=sys.stderr)
            status = 1
    for warning in caught if status == 0 else ():
        if issubclass(warning.category, UserWarning):
            print(f"forwardgrad {args.command}: warning: {warning.message}", file=sys.stderr)
    return status


def main(argv=None):
    """Entry point of the ``forwardgrad`` console script: :func:`run`, then the exit.

    After an interruption the process ends at once (``os._exit``) with status 130, once its
    output is flushed and its finished chunks are on disk: JAX's runtime threads may still be
    running compiled code, and tearing the interpreter down under them can crash it.
    """
    status = run(argv)
    if status == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    return status


if __name__ == "__main__":
    sys.exit(main())
