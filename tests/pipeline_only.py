"""Run a command as if only the README's pipeline install (`pip install -e .`) had happened.

    python tests/pipeline_only.py -m snakemake --report report.html ...

The test environment has the test extras too (pytest, MDAnalysis, ...), which may pull
in a package the pipeline needs but does not declare (pygments for the report was one).
This wrapper computes the distributions that `pip install -e .` would install, the
closure of pyproject.toml's main dependencies (with their requested extras) over the
installed metadata, and makes every import of a module that belongs to any other
installed distribution fail, as it would in such an environment. Modules of no
distribution (the standard library, simlib from the source tree) import as usual.
Then it runs the rest of the command line like ``python ...`` would. No extra
virtual environment is built, so it costs nothing in CI.
"""

import importlib.abc
import importlib.metadata as metadata
import os
import pkgutil
import re
import runpy
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pipeline_distributions(pyproject=None):
    """Canonical names of the installed distributions `pip install -e .` would need
    (``$PIPELINE_ONLY_PYPROJECT`` or the repository's pyproject.toml)."""
    pyproject = pyproject or os.environ.get("PIPELINE_ONLY_PYPROJECT") or REPO / "pyproject.toml"
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    # (requirement, its extras); markers are evaluated before a requirement is queued
    wanted = [(Requirement(r), set(Requirement(r).extras)) for r in project["dependencies"]
              if Requirement(r).marker is None or Requirement(r).marker.evaluate({"extra": ""})]
    seen, missing = {(_canonical(project["name"]), frozenset())}, []
    while wanted:
        req, extras = wanted.pop()
        name = _canonical(req.name)
        key = (name, frozenset(extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            missing.append(req.name)
            continue
        for line in requires:
            sub = Requirement(line)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}) or any(
                    sub.marker.evaluate({"extra": e}) for e in extras):
                wanted.append((sub, set(sub.extras)))
    if missing:
        raise SystemExit(f"pipeline_only: declared dependencies not installed: {sorted(set(missing))}")
    return {name for name, _ in seen}


class _Refuse(importlib.abc.MetaPathFinder):
    def __init__(self, refused):
        self.refused = refused

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.refused:
            raise ModuleNotFoundError(
                f"No module named '{top}' (pipeline_only: installed, but only by extras outside "
                f"`pip install -e .`: {sorted(self.refused[top])})", name=top)
        return None


def refuse_undeclared(allowed):
    """Install the import guard; returns the refused top-level module names."""
    refused = {}
    for top, dists in metadata.packages_distributions().items():
        names = {_canonical(d) for d in dists}
        if not names & allowed and top not in sys.builtin_module_names:
            refused[top] = names
    sys.meta_path.insert(0, _Refuse(refused))
    # plugin discovery (Snakemake's executor/report plugins) scans pkgutil.iter_modules:
    # refused modules are absent there too, as they would be in a pipeline-only install
    iter_modules = pkgutil.iter_modules

    def visible_modules(*args, **kwargs):
        return (m for m in iter_modules(*args, **kwargs) if m.name not in refused)

    pkgutil.iter_modules = visible_modules
    return refused


def main(argv):
    allowed = pipeline_distributions()
    refuse_undeclared(allowed)
    if argv[:1] == ["-m"]:
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    elif argv[:1] == ["-c"]:
        sys.argv = ["-c", *argv[2:]]
        exec(compile(argv[1], "<pipeline_only -c>", "exec"), {"__name__": "__main__"})
    else:
        sys.argv = list(argv)
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
