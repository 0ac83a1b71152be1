"""Compare a rerun's ``summary.csv`` with a reference one, row by row.

Usage::

    python -m simlib.compare REFERENCE.csv RERUN.csv [--sigmas 3] [--bitwise]

Rows are matched by the ``run`` column. A quantity ``X`` with an error column
``X_err`` agrees if ``|X_ref - X_new| <= sigmas * sqrt(err_ref^2 + err_new^2)``
(its own statistical tolerance); quantities without an error column (counts,
parameters) must be equal. With ``--bitwise`` (same machine, same versions) every
number must be identical. Prints one line per row and exits 0 if all agree, else 1.
"""

import argparse
import math
import sys

import pandas as pd


def compare(reference, rerun, sigmas=3.0, bitwise=False):
    """Return a list of ``(run, ok, problems)``; ``problems`` lists column messages."""
    ref = reference.set_index("run")
    new = rerun.set_index("run")
    results = []
    for run in ref.index.union(new.index):
        if run not in new.index:
            results.append((run, False, ["missing in rerun"]))
            continue
        if run not in ref.index:
            results.append((run, False, ["not in reference"]))
            continue
        problems = []
        for column in ref.columns:
            if (column.endswith("_err") and not bitwise) or column not in new.columns:
                if column not in new.columns:
                    problems.append(f"{column}: missing in rerun")
                continue
            a, b = ref.at[run, column], new.at[run, column]
            problems.extend(_check(column, a, b, ref, new, run, sigmas, bitwise))
        results.append((run, not problems, problems))
    return results


def _check(column, a, b, ref, new, run, sigmas, bitwise):
    if isinstance(a, str) or isinstance(b, str):
        return [] if str(a) == str(b) else [f"{column}: {a} != {b}"]
    if pd.isna(a) and pd.isna(b):
        return []
    if bitwise or f"{column}_err" not in ref.columns:
        return [] if a == b else [f"{column}: {float(a)!r} != {float(b)!r}"]
    err = math.hypot(ref.at[run, f"{column}_err"], new.at[run, f"{column}_err"])
    if pd.isna(err):
        return [] if a == b else [f"{column}: {float(a)!r} != {float(b)!r} (no error bar)"]
    if abs(a - b) <= sigmas * err:
        return []
    return [f"{column}: {float(a):.6g} vs {float(b):.6g} differ by {abs(a - b) / err:.1f} sigma (> {sigmas})"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m simlib.compare", description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="reference summary.csv")
    parser.add_argument("rerun", help="summary.csv of the rerun")
    parser.add_argument("--sigmas", type=float, default=3.0, help="tolerance in combined standard errors (default 3)")
    parser.add_argument("--bitwise", action="store_true", help="require identical numbers (same machine)")
    args = parser.parse_args(argv)
    frames = []
    for path in (args.reference, args.rerun):
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
            print(f"error: cannot read {path}: {reason}", file=sys.stderr)
            return 2
        if "run" not in frame.columns:
            print(f"error: {path} has no 'run' column: not a simlib summary.csv", file=sys.stderr)
            return 2
        if not frame["run"].is_unique:
            print(f"error: {path} lists a run more than once: not a simlib summary.csv", file=sys.stderr)
            return 2
        frames.append(frame)
    results = compare(*frames, sigmas=args.sigmas, bitwise=args.bitwise)
    for run, ok, problems in results:
        print(f"{'ok  ' if ok else 'FAIL'} {run}" + ("" if ok else ": " + "; ".join(problems)))
    failed = sum(not ok for _, ok, _ in results)
    print(f"{len(results) - failed} rows agree, {failed} differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
