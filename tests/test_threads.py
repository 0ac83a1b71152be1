"""Thread count changes speed only: 1, 2 and 4 numba threads give the same bits (dynamics,
Monte Carlo and checkerboard Monte Carlo).

The kernels run their particle loops with numba ``prange``; each thread runs the
serial force loop over its own chunk of particles, the pairs crossing into a later
chunk evaluated first, so each particle receives its lower pairs in ascending order;
per-particle energies and virials are reduced in index order and blow-up / rebuild
decisions come from per-particle flags. These tests run the same
simulations with different thread counts in one subprocess (so that four threads exist
even on a two-core machine) and compare hashes of every state array.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import simlib
from simlib.neighbours import build_list

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import hashlib, json, sys
import numba, numpy as np, simlib

def digest(sim):
    st = sim.state
    h = hashlib.sha256()
    for a in (st.positions, st.velocities, st.images, sim.forces, st.list_reference,
              np.array([sim.potential_energy, sim.virial, st.list_builds, st.mc_accepted])):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

def runs():
    out = {}
    lj = simlib.Potential("lj", r_cut=2.5)
    s = simlib.initial_state(900, simlib.Box.cube(37.5, 2), seed=2, polydispersity=0.05)
    sim = simlib.Simulation(s, lj, simlib.Langevin(kT=2.0, dt=0.01))
    sim.run(150)
    out["langevin-euler-2d"] = digest(sim)
    sim = simlib.Simulation(s, lj, simlib.Langevin(kT=0.5, dt=0.01, scheme="baoab"))
    sim.run(100)
    out["langevin-baoab-2d"] = digest(sim)
    sim = simlib.Simulation(s, lj, simlib.VelocityVerlet(dt=0.002))
    sim.run(100)
    out["nve-2d"] = digest(sim)
    sim = simlib.Simulation(s, lj, simlib.Metropolis(kT=0.5, move_size=0.15))
    sim.run(5)
    out["mc-2d"] = digest(sim)
    sim = simlib.Simulation(s, lj, simlib.Metropolis(kT=0.5, move_size=0.15, checkerboard=True))
    sim.run(20)
    out["mc-checkerboard-2d"] = digest(sim)
    hard = simlib.initial_state(400, simlib.Box.cube(30.0, 2), seed=4, arrangement="random")
    sim = simlib.Simulation(hard, simlib.Potential("hard"), simlib.Metropolis(kT=1.0, move_size=0.3, checkerboard=True))
    sim.run(5)
    out["mc-checkerboard-hard-2d"] = digest(sim)
    # the thread count changed mid-run: the same half list serves both kernels and the run
    # goes on as if nothing had changed
    s = simlib.initial_state(900, simlib.Box.cube(37.5, 2), seed=2, polydispersity=0.05)
    sim = simlib.Simulation(s, lj, simlib.Langevin(kT=2.0, dt=0.01))
    threads = numba.get_num_threads()
    sim.run(75)
    numba.set_num_threads(2 if threads == 1 else 1)
    sim.run(75)
    numba.set_num_threads(threads)
    out["langevin-euler-2d-threads-changed"] = digest(sim)
    s3 = simlib.initial_state(500, simlib.Box.cube(9.0, 3), seed=3)
    soft = simlib.Potential("lj_smooth", r_cut=2.0)
    sim = simlib.Simulation(s3, soft, simlib.Langevin(kT=1.5, dt=0.002))
    sim.run(100)
    out["langevin-3d"] = digest(sim)
    sim = simlib.Simulation(s3, soft, simlib.VelocityVerlet(dt=0.002))
    sim.run(100)
    out["nve-3d"] = digest(sim)
    s3 = simlib.initial_state(600, simlib.Box.cube(12.6, 3), seed=3)  # 6 cells per side
    sim = simlib.Simulation(s3, soft, simlib.Metropolis(kT=1.5, move_size=0.1, checkerboard=True))
    sim.run(20)
    out["mc-checkerboard-3d"] = digest(sim)
    return out

result = {}
for threads in (1, 2, 4):
    numba.set_num_threads(threads)
    result[threads] = runs()
print(json.dumps(result))
"""


def test_one_two_and_four_threads_give_identical_bits():
    env = dict(os.environ, NUMBA_NUM_THREADS="4", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    one = result["1"]
    assert len(one) == 10
    assert one["langevin-euler-2d-threads-changed"] == one["langevin-euler-2d"]
    for threads in ("2", "4"):
        assert result[threads] == one, threads


def test_simlib_defaults_to_one_thread():
    code = "import numba, simlib; print(numba.get_num_threads())"
    env = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "1"


def _rows(neighbours, counts):
    return [tuple(neighbours[i, : counts[i]]) for i in range(counts.size)]


def _global_list_of_references(sim):
    st = sim.state
    ref = st.list_reference.copy()
    st.box.wrap(ref, np.zeros(ref.shape, dtype=np.int64))
    nb = np.zeros_like(sim.nlist.neighbours)
    counts = np.zeros_like(sim.nlist.counts)
    assert build_list(ref, st.box.lengths, sim.nlist.r_list, nb, counts) <= nb.shape[1]
    return _rows(nb, counts)


def test_mc_single_particle_relisting_keeps_the_list_of_the_references():
    # Monte Carlo re-lists one particle at a time; the list must stay exactly the sorted
    # list a global build from the (per-particle) references gives, in 2D and 3D, with
    # the cell path and the all-pairs path
    cases = [
        (simlib.initial_state(400, simlib.Box.cube(25.0, 2), seed=5, polydispersity=0.1),
         simlib.Potential("lj", r_cut=2.5), 0.6, 0.2),
        (simlib.initial_state(60, simlib.Box.cube(9.0, 2), seed=6),
         simlib.Potential("soft12", r_cut=2.0), 1.0, 0.2),
        (simlib.initial_state(200, simlib.Box.cube(8.0, 3), seed=7, polydispersity=0.1, arrangement="random"),
         simlib.Potential("hard"), 1.0, 0.15),
    ]
    for state, pot, kT, move in cases:
        sim = simlib.Simulation(state, pot, simlib.Metropolis(kT=kT, move_size=move))
        sim.run(30)
        assert state.list_builds > state.n // 4  # many particles were re-listed
        # references differ from particle to particle: no global rebuild happened
        disp = np.linalg.norm(state.unwrapped_positions() - state.list_reference, axis=1)
        assert np.count_nonzero(disp) > 0 and np.all(disp <= 0.5 * sim.skin)
        assert _rows(sim.nlist.neighbours, sim.nlist.counts) == _global_list_of_references(sim)
        for i in range(state.n):
            row = sim.nlist.neighbours[i, : sim.nlist.counts[i]]
            assert np.all(np.diff(row) > 0)


def test_mc_relists_per_sweep_do_not_grow_with_n():
    # the old global rebuild ran more often per sweep as N grew (one far particle rebuilt
    # everything); per-particle re-listing costs the same per particle at any N
    rates = []
    for n in (1024, 4096):
        side = float(np.sqrt(n / 0.64))
        state = simlib.initial_state(n, simlib.Box.cube(side, 2), seed=1)
        sim = simlib.Simulation(state, simlib.Potential("lj", r_cut=2.5), simlib.Metropolis(kT=1.0, move_size=0.15))
        sim.run(100)
        rates.append(state.list_builds / (100 * n))
    # a few thousand re-lists each (Poisson error < 3 %); the two rates agree to 15 %
    assert min(rates) * 1024 * 100 > 1000
    assert 0.85 < rates[1] / rates[0] < 1.15, rates


def test_kernels_compile_only_for_the_dimension_and_thread_use_of_the_run():
    # a 2D one-thread run compiles the 2D serial kernels only: the 3D and parallel
    # specialisations (seconds of compile time each) wait until a run needs them
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import simlib\n"
        "from simlib import integrators as I, mc as M, potentials as P\n"
        "s = simlib.initial_state(64, simlib.Box.cube(12.0, 2), seed=1)\n"
        "simlib.Simulation(s, simlib.Potential('lj', r_cut=2.5), simlib.Langevin(kT=1.0)).run(3)\n"
        "print(*(len(k.signatures) for k in (I._RUN_DYNAMICS[(False, False)], I._RUN_DYNAMICS[(True, False)],\n"
        "      I._RUN_DYNAMICS[(False, True)], P._ENERGY_FORCES[(False, True)], M._run_metropolis_2d)))\n"
    )
    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(repo))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "0", "0", "0", "0"]


def test_a_job_runs_on_its_rules_threads():
    """`threads:` of a rule (or `--set-threads rule=N`) reaches the kernels: the script glue
    sets numba's thread count from the job's, capped by the threads numba started."""
    code = (
        "import json, sys, numba\n"
        "from simlib.pipeline.smk import run_script\n"
        "class Job:\n"
        "    log, output, rule, wildcards = [sys.argv[1]], [], 'mc_production', {}\n"
        "seen = []\n"
        "for threads in (2, 1, 8):\n"
        "    Job.threads = threads\n"
        "    run_script(Job(), lambda smk, log: seen.append(numba.get_num_threads()))\n"
        "print(json.dumps(seen))\n"
    )
    env = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / "job.log"
        out = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True, env=env,
                             check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        assert json.loads(out.stdout.strip().splitlines()[-1]) == [2, 1, 2]
        assert "threads=2" in log.read_text()
