"""Compare a rerun's ``summary.csv`` with a reference one, row by row.

Usage::

    python -m simlib.compare REFERENCE.csv RERUN.csv [--sigmas 3] [--rtol 0.1] [--bitwise]

Rows are matched by the ``run`` column. Without ``--bitwise`` (another machine, other
library versions: chaotic trajectories differ, their statistics agree):

* a quantity ``X`` with a positive, finite error column ``X_err`` agrees if
  ``|X_ref - X_new| <= sigmas * sqrt(err_ref^2 + err_new^2)``;
* a quantity without an error bar (``total_rms``, ``rms_ratio``, ``density_dispersion``,
  ``largest_cluster_fraction``, a tuned ``move_size``), or whose error bar is zero (fewer
  than 4 samples), agrees within the relative tolerance ``--rtol`` (default 0.1: these
  are single estimates from one chaotic run);
* set-points and counts (text columns and ``PARAMETERS``) must be equal;
* NaN on both sides agrees (the quantity does not apply to the run).

With ``--bitwise`` (same machine, same versions) every number must be identical.

Prints one line per row. Exit codes: 0 every row agrees; 1 some number differs;
2 a file cannot be read or is not a summary; 3 a column is missing from one file;
4 a value or error bar is infinite (it cannot be compared); 5 an invalid tolerance
option. When several apply, the largest code of 1, 3 and 4 is returned.
"""

import argparse
import math
import sys

import pandas as pd

PARAMETERS = {"kT", "polydispersity", "seed", "n", "dt", "steps", "box", "dim", "D_exact"}
DIFFER, UNREADABLE, MISSING_COLUMN, NOT_FINITE, BAD_OPTION = 1, 2, 3, 4, 5


def compare(reference, rerun, sigmas=3.0, bitwise=False, rtol=0.1):
    """Return a list of ``(run, ok, problems)``; ``problems`` lists column messages.

    Each problem is a string; problems that are not plain differences start with
    ``"missing:"`` or ``"not finite:"`` (see :func:`exit_code`).
    """
    ref = reference.set_index("run")
    new = rerun.set_index("run")
    missing = [f"missing: column {c} not in rerun" for c in ref.columns if c not in new.columns]
    missing += [f"missing: column {c} not in reference" for c in new.columns if c not in ref.columns]
    results = []
    for run in ref.index.union(new.index):
        if run not in new.index:
            results.append((run, False, ["missing in rerun"]))
            continue
        if run not in ref.index:
            results.append((run, False, ["not in reference"]))
            continue
        problems = list(missing)
        for column in ref.columns:
            if column not in new.columns or (column.endswith("_err") and not bitwise):
                continue
            a, b = ref.at[run, column], new.at[run, column]
            problems.extend(_check(column, a, b, ref, new, run, sigmas, bitwise, rtol))
        results.append((run, not problems, problems))
    return results


def _finite_or_nan(x):
    return pd.isna(x) or math.isfinite(x)


def _check(column, a, b, ref, new, run, sigmas, bitwise, rtol):
    if isinstance(a, str) or isinstance(b, str):
        return [] if str(a) == str(b) else [f"{column}: {a} != {b}"]
    if pd.isna(a) and pd.isna(b):
        return []
    if not (_finite_or_nan(a) and _finite_or_nan(b)):
        return [f"not finite: {column} is {float(a)!r} in the reference and {float(b)!r} in the rerun"]
    if bitwise or column in PARAMETERS:
        return [] if a == b else [f"{column}: {float(a)!r} != {float(b)!r}"]
    errors = [frame.at[run, f"{column}_err"] if f"{column}_err" in frame.columns else math.nan
              for frame in (ref, new)]
    if any(not _finite_or_nan(e) for e in errors):
        return [f"not finite: {column}_err is {errors[0]!r} in the reference and {errors[1]!r} in the rerun; "
                "an infinite error bar hides any difference"]
    err = math.hypot(*errors)
    if pd.isna(a) or pd.isna(b):
        return [f"{column}: {float(a)!r} != {float(b)!r}"]
    if pd.isna(err) or err == 0:
        scale = max(abs(a), abs(b))
        if abs(a - b) <= rtol * scale:
            return []
        return [f"{column}: {float(a):.6g} vs {float(b):.6g} differ by {abs(a - b) / scale:.3g} relative "
                f"(> --rtol {rtol}; no error bar)"]
    if abs(a - b) <= sigmas * err:
        return []
    return [f"{column}: {float(a):.6g} vs {float(b):.6g} differ by {abs(a - b) / err:.1f} sigma (> {sigmas})"]


def exit_code(results):
    problems = [p for _, ok, ps in results if not ok for p in ps]
    if not problems:
        return 0
    if any(p.startswith("missing: column") for p in problems):
        return MISSING_COLUMN
    if any(p.startswith("not finite:") for p in problems):
        return NOT_FINITE
    return DIFFER


def _tolerance(name):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not (math.isfinite(value) and value >= 0):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number >= 0, got {text!r}")
        return value

    return parse


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"error: {message}", file=sys.stderr)
        sys.exit(BAD_OPTION if "--sigmas" in message or "--rtol" in message else UNREADABLE)


def main(argv=None):
    parser = _Parser(prog="python -m simlib.compare", description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="reference summary.csv")
    parser.add_argument("rerun", help="summary.csv of the rerun")
    parser.add_argument("--sigmas", type=_tolerance("--sigmas"), default=3.0,
                        help="tolerance in combined standard errors (default 3)")
    parser.add_argument("--rtol", type=_tolerance("--rtol"), default=0.1,
                        help="relative tolerance of numbers without an error bar (default 0.1)")
    parser.add_argument("--bitwise", action="store_true", help="require identical numbers (same machine)")
    args = parser.parse_args(argv)
    frames = []
    for path in (args.reference, args.rerun):
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
            print(f"error: cannot read {path}: {reason}", file=sys.stderr)
            return UNREADABLE
        if "run" not in frame.columns:
            print(f"error: {path} has no 'run' column: not a simlib summary.csv", file=sys.stderr)
            return UNREADABLE
        if not frame["run"].is_unique:
            print(f"error: {path} lists a run more than once: not a simlib summary.csv", file=sys.stderr)
            return UNREADABLE
        frames.append(frame)
    results = compare(*frames, sigmas=args.sigmas, bitwise=args.bitwise, rtol=args.rtol)
    for run, ok, problems in results:
        print(f"{'ok  ' if ok else 'FAIL'} {run}" + ("" if ok else ": " + "; ".join(problems)))
    failed = sum(not ok for _, ok, _ in results)
    print(f"{len(results) - failed} rows agree, {failed} differ")
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
