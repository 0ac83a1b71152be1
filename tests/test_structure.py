"""Engine and pipeline apart: `simlib` imports without the pipeline's dependencies, the
numba cache key covers only kernel modules, and every imported package is declared."""

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from simlib import _cache

REPO = Path(__file__).resolve().parents[1]
PIPELINE_ONLY = {"snakemake", "matplotlib", "jsonschema", "yaml"}


def test_engine_imports_without_the_pipeline_dependencies():
    code = ("import sys, simlib, simlib.analysis, simlib.io; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'snakemake', 'matplotlib', 'jsonschema'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_engine_modules_do_not_import_the_pipeline():
    for path in (REPO / "simlib").rglob("*.py"):
        if "pipeline" in path.relative_to(REPO / "simlib").parts or path.name == "compare.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else [f"relative:{node.module}"]
            for name in names:
                assert name.split(".")[0] not in PIPELINE_ONLY, f"{path} imports {name}"
                assert "pipeline" not in name, f"{path} imports {name}"


def test_numba_cache_key_covers_kernel_modules_only():
    sources = {p.relative_to(REPO / "simlib").as_posix() for p in _cache.kernel_sources()}
    assert not any(s.startswith("pipeline/") for s in sources), sources
    kernels = {
        p.relative_to(REPO / "simlib").as_posix()
        for p in (REPO / "simlib").rglob("*.py")
        if re.search(r"@(numba\.)?njit", p.read_text())
    }
    assert kernels and kernels <= sources, kernels - sources


def _imported_distributions():
    """Top-level packages imported anywhere in simlib/, workflow/scripts and the Snakefiles."""
    names = set()
    files = list((REPO / "simlib").rglob("*.py")) + list((REPO / "workflow" / "scripts").glob("*.py"))
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_imported_package_is_declared_in_pyproject_and_environment():
    module_to_dist = {"netCDF4": "netcdf4", "yaml": "pyyaml", "gsd": "gsd"}
    stdlib = set(sys.stdlib_module_names) | {"simlib", "bench"}  # bench: this repository's benchmarks
    needed = {module_to_dist.get(name, name).lower() for name in _imported_distributions() - stdlib}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~\[ ]", dep)[0].lower() for dep in project["dependencies"]}
    # conda has no extras: what a pip extra brings is listed by name in environment.yml
    provided_by_extras = {"snakemake[reports]": {"pygments"}}
    for dep in project["dependencies"]:
        for extra, names in provided_by_extras.items():
            if dep.replace(" ", "").lower().startswith(extra):
                declared |= names
    assert needed <= declared, needed - declared
    conda = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    conda_names = {re.split(r"[<>=!~ ]", dep)[0].lower() for dep in conda if isinstance(dep, str)} - {"python"}
    assert conda_names == declared, conda_names ^ declared


def test_tests_run_side_by_side_each_file_on_one_worker():
    """The README: the tests run on pytest-xdist's workers, at most four, and each test file
    is one unit of work (the workflow and sweep files one together: they share a run)."""
    import conftest

    addopts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    options = addopts.split()
    assert options[options.index("-n") + 1] == "auto" and options[options.index("--maxprocesses") + 1] == "4"
    assert conftest._unit("tests/test_rng.py::test_a[1]") == conftest._unit("tests/test_rng.py::test_b") == "test_rng"
    assert conftest._unit("tests/test_sweep.py::test_a") == conftest._unit("tests/test_workflow.py::test_b")
    assert conftest._unit("tests/test_mc.py::test_a") != conftest._unit("tests/test_rng.py::test_a")
    if "PYTEST_XDIST_WORKER_COUNT" in os.environ:  # not under -n 0
        assert 1 <= int(os.environ["PYTEST_XDIST_WORKER_COUNT"]) <= 4
