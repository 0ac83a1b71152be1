"""Shared fixtures: the engine tests' systems (rng, geometry, potentials, neighbours,
integrators, mc, simulation) and one complete workflow run of config/test.yaml that the
workflow and sweep tests share."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import simlib
from simlib.integrators import LIST_OVERFLOW
from simlib.simulation import Simulation

ENGINE_TEST_MODULES = {
    "test_rng", "test_geometry", "test_potentials", "test_neighbours",
    "test_integrators", "test_mc", "test_simulation",
}


@pytest.fixture(autouse=True)
def _overflow_hang_guard(request, monkeypatch):
    """Turn an endless neighbour-list-overflow retry loop into an error.

    ``Simulation._advance`` retries the kernel after a list overflow; if the retry
    does not actually enlarge the list it loops forever (see
    ``test_neighbours.py::test_overflow_during_a_run_grows_the_list``). This guard
    only counts consecutive overflow statuses and raises after 50; it never changes
    a result.
    """
    module = getattr(request.node, "module", None)
    name = getattr(module, "__name__", "").rsplit(".", 1)[-1]
    if name not in ENGINE_TEST_MODULES or not hasattr(Simulation, "_kernel"):
        yield
        return
    original = Simulation._kernel

    def guarded(self, n_steps):
        result = original(self, n_steps)
        streak = getattr(self, "_test_overflow_streak", 0)
        streak = streak + 1 if result[0] == LIST_OVERFLOW else 0
        self._test_overflow_streak = streak
        if streak > 50:
            raise RuntimeError(
                "neighbour-list overflow retried 50 times without growing the list "
                "(Simulation._advance would loop forever)"
            )
        return result

    monkeypatch.setattr(Simulation, "_kernel", guarded)
    yield


# Tests run side by side on pytest-xdist's workers (pyproject: -n auto). Each file is one
# unit of work, run by one worker, so a module fixture is built once; files sharing a
# session fixture share a unit. The longest units are handed out first, so that no worker
# starts one near the end while the others sit idle.
SHARED_UNITS = {"test_sweep": "complete_run", "test_workflow": "complete_run"}
LONGEST_FIRST = ["complete_run", "test_slurm", "test_reliability", "test_stage_safety", "test_bad_input",
                 "test_checkerboard", "test_bench"]


def _unit(nodeid):
    stem = Path(nodeid.split("::", 1)[0]).stem
    return SHARED_UNITS.get(stem, stem)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        unit = _unit(item.nodeid)
        return LONGEST_FIRST.index(unit) if unit in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a unit, the files' own order


@pytest.hookimpl(optionalhook=True)  # only with pytest-xdist
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # hand units out in LONGEST_FIRST order, not by test count

    class FileUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return _unit(nodeid)

    return FileUnits(config, log)


SOFT = simlib.Potential("soft12", r_cut=3.0)


@pytest.fixture(scope="session")
def soft_disks_equilibrated():
    """The course's soft-disk system, shrunk for speed: N = 256 disks at the course's
    density 0.64 (L = 20), inverse-12 with r_c = 3.0, lattice start, Langevin
    T = 5.0 for 10 t0 then T* = 0.9 for 20 t0 (dt = 0.01).

    Returns a State; tests must use ``.copy()``.
    """
    state = simlib.initial_state(256, simlib.Box.cube(20.0, 2), seed=2024)
    Simulation(state, SOFT, simlib.Langevin(kT=5.0, dt=0.01)).run(1000)
    Simulation(state, SOFT, simlib.Langevin(kT=0.9, dt=0.01)).run(2000)
    return state


def block_mean_and_error(samples, n_blocks=20):
    """Mean and its standard error from ``n_blocks`` contiguous block averages."""
    samples = np.asarray(samples, dtype=np.float64)
    blocks = np.array([b.mean() for b in np.array_split(samples, n_blocks)])
    return float(samples.mean()), float(blocks.std(ddof=1) / np.sqrt(n_blocks))


@pytest.fixture
def block_stats():
    return block_mean_and_error


REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def run_workflow(workdir, *extra, cores=4, cache=None, check=True, configfile=None):
    """Run the workflow on config/test.yaml (or ``configfile``) in ``workdir``."""
    env = dict(os.environ)
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache)
    cmd = SNAKEMAKE + [
        "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(configfile or REPO / "config" / "test.yaml"), "--cores", str(cores), *extra,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake failed ({out.returncode}):\n{out.stderr[-5000:]}")
    return out


@pytest.fixture(scope="session")
def complete_run_cache(tmp_path_factory):
    """The numba cache that :func:`complete_run` starts empty and fills."""
    return tmp_path_factory.mktemp("cache1")


@pytest.fixture(scope="session")
def complete_run(tmp_path_factory, complete_run_cache):
    """The test config run once to completion, on an empty numba cache with 4 parallel jobs."""
    workdir = tmp_path_factory.mktemp("run1")
    run_workflow(workdir, cache=complete_run_cache)
    return workdir
