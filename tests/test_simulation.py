"""Simulation: bit-identical restarts and chunking, seeds, blow-up handling, input checks."""

import re

import numpy as np
import pytest

import simlib
from simlib import Box, Langevin, Metropolis, Potential, Simulation, SimulationError, State, VelocityVerlet
from simlib.potentials import energy_forces_all_pairs

SOFT = Potential("soft12", r_cut=3.0)
LJ = Potential("lj", r_cut=2.5)


# -- restarts ----------------------------------------------------------------------------------

def _case(name):
    """(fresh state, potential, method, n) for each method; n steps/sweeps per half."""
    if name == "langevin-euler":
        state = simlib.initial_state(100, Box.cube(12.0, 2), seed=1, kT=1.0)
        return state, SOFT, Langevin(kT=1.0, dt=0.01), 150
    if name == "langevin-baoab":
        state = simlib.initial_state(100, Box.cube(7.0, 3), seed=2, polydispersity=0.15, kT=1.5)
        return state, LJ, Langevin(kT=1.5, dt=0.01, friction=0.7, scheme="baoab"), 150
    if name == "nve":
        state = simlib.initial_state(100, Box.cube(12.0, 2), seed=3, kT=1.0)
        return state, SOFT, VelocityVerlet(dt=0.005), 150
    if name == "mc":
        state = simlib.initial_state(100, Box.cube(12.0, 2), seed=4)
        return state, LJ, Metropolis(kT=0.5, move_size=0.15), 40
    raise KeyError(name)


CASES = ["langevin-euler", "langevin-baoab", "nve", "mc"]

FIELDS = ["step", "time", "list_builds", "mc_trials", "mc_accepted", "step_origin", "time_origin", "dt", "seed"]


def assert_identical(a, b):
    for name in ("positions", "velocities", "images", "list_reference"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in FIELDS:
        assert getattr(a, name) == getattr(b, name), (name, getattr(a, name), getattr(b, name))


def _straight(name, every=None):
    state, pot, method, n = _case(name)
    sim = Simulation(state, pot, method)
    sim.run(2 * n, every=every)
    return state, sim


@pytest.mark.parametrize("name", CASES)
def test_restart_from_copy_is_bit_identical(name):
    straight, sim_a = _straight(name)

    state, pot, method, n = _case(name)
    first = Simulation(state, pot, method)
    first.run(n)
    checkpoint = state.copy()
    del first
    state.positions += 1.0  # the copy must not share memory with the original
    resumed = Simulation(checkpoint, pot, method, resume=True)
    resumed.run(n)

    assert straight.list_builds > 3  # the list was rebuilt, on both sides of the split
    if name == "mc":
        assert straight.mc_trials == 2 * n * straight.n and straight.mc_accepted > 0
    assert_identical(straight, checkpoint)
    assert np.array_equal(sim_a.forces, resumed.forces)
    assert sim_a.potential_energy == resumed.potential_energy
    assert sim_a.thermo() == resumed.thermo()


@pytest.mark.parametrize("name", CASES)
def test_chunking_does_not_change_the_bits(name):
    straight, _ = _straight(name)
    for every in (1, 7, 64):
        chunked, _ = _straight(name, every=every)
        assert_identical(straight, chunked)
    # restart with a different chunking on each side
    state, pot, method, n = _case(name)
    calls = []
    Simulation(state, pot, method).run(n, every=13, callback=lambda s: calls.append(s.state.step))
    assert calls == list(range(13, n, 13)) + [n]
    copy = state.copy()
    Simulation(copy, pot, method, resume=True).run(n, every=5)
    assert_identical(straight, copy)


@pytest.mark.parametrize("name", ["langevin-euler", "langevin-baoab", "mc"])
def test_same_seed_same_bits_different_seed_differs(name):
    a, pot, method, n = _case(name)
    b = a.copy()
    c = a.copy()
    c.seed = a.seed + 1  # same start, only the random stream differs
    for s in (a, b, c):
        Simulation(s, pot, method).run(n)
    assert_identical(a, b)
    assert not np.array_equal(a.positions, c.positions)
    # every particle's trajectory differs, not just a few
    assert np.all(np.any(a.positions != c.positions, axis=1))


def test_nve_does_not_depend_on_the_seed():
    a, pot, method, n = _case("nve")
    b = a.copy()
    b.seed = 12345
    for s in (a, b):
        Simulation(s, pot, method).run(n)
    assert np.array_equal(a.positions, b.positions) and np.array_equal(a.velocities, b.velocities)


def test_new_stage_resets_counters_and_keeps_time():
    state = simlib.initial_state(100, Box.cube(12.0, 2), seed=1, kT=1.0)
    Simulation(state, SOFT, Langevin(kT=1.0, dt=0.01)).run(100)
    assert state.step == 100 and state.time == pytest.approx(1.0, abs=1e-12)
    Simulation(state, LJ, Metropolis(kT=1.0, move_size=0.1)).run(10)
    assert state.mc_trials == 10 * 100
    sim = Simulation(state, SOFT, VelocityVerlet(dt=0.001))
    assert state.list_builds <= 1 and state.mc_trials == 0 and state.mc_accepted == 0
    assert (state.step_origin, state.time_origin) == (110, pytest.approx(1.0, abs=1e-12))
    sim.run(250)
    assert state.step == 360
    assert state.time == state.time_origin + 250 * 0.001  # exact bookkeeping, no accumulation


# -- blow-up -------------------------------------------------------------------------------------

def _head_on():
    """Two soft disks flying at each other: with dt = 0.3 they jump from r = 1.2 to r = 0.6,
    where |F| ~ 1e4, so the next step moves a particle by ~400 > max_move (step 10)."""
    x = np.array([[2.0, 5.0], [8.0, 5.0]])
    v = np.array([[1.0, 0.0], [-1.0, 0.0]])
    return State(x, v, np.zeros((2, 2), np.int64), np.ones(2), Box.cube(10.0, 2), seed=1)


def test_blow_up_raises_and_leaves_state_at_last_completed_chunk():
    state = _head_on()
    sim = Simulation(state, SOFT, VelocityVerlet(dt=0.3))
    with pytest.raises(SimulationError) as info:
        sim.run(40, every=4)
    message = str(info.value)
    bad_step = int(re.search(r"step (\d+)", message).group(1))
    assert "smaller dt" in message and "dt=0.3" in message
    assert bad_step == 10
    # chunks end at steps 4, 8, 12, ...: the state is left after step 8
    assert state.step == 8
    assert np.all(np.isfinite(state.positions)) and np.all(np.isfinite(state.velocities))
    reference = _head_on()
    ref_sim = Simulation(reference, SOFT, VelocityVerlet(dt=0.3))
    ref_sim.run(8)
    assert_identical(reference, state)
    assert np.array_equal(sim.forces, ref_sim.forces)
    assert state.time == pytest.approx(8 * 0.3)


def test_blow_up_in_first_step_of_langevin_leaves_state_untouched(soft_disks_equilibrated):
    state = soft_disks_equilibrated.copy()
    before = state.copy()
    sim = Simulation(state, SOFT, Langevin(kT=0.9, dt=5.0))  # noise alone moves ~15 per step
    with pytest.raises(SimulationError, match="smaller dt") as info:
        sim.run(10)
    # steps are counted over all stages: the first step of this stage is before.step + 1
    assert f"step {before.step + 1} " in str(info.value)
    assert f"t={before.time + 5.0:.6g}" in str(info.value)
    for name in ("positions", "velocities", "images"):
        assert np.array_equal(getattr(before, name), getattr(state, name)), name
    assert state.step == before.step and state.time == before.time


# -- bad input -----------------------------------------------------------------------------------

BAD_INPUTS = [
    ("box negative side", lambda: Box((-1.0, 5.0)), "box"),
    ("box zero side", lambda: Box.cube(0.0, 3), "box"),
    ("unknown potential", lambda: Potential("morse", r_cut=2.5), "kind"),
    ("langevin kT = 0", lambda: Langevin(kT=0.0), "kT"),
    ("langevin kT < 0", lambda: Langevin(kT=-0.5), "kT"),
    ("langevin dt = 0", lambda: Langevin(kT=1.0, dt=0.0), "dt"),
    ("langevin dt < 0", lambda: Langevin(kT=1.0, dt=-0.01), "dt"),
    ("verlet dt = 0", lambda: VelocityVerlet(dt=0.0), "dt"),
    ("n = 1", lambda: simlib.initial_state(1, Box.cube(10.0, 2), seed=1), "n must"),
    ("n = 0", lambda: simlib.initial_state(0, Box.cube(10.0, 2), seed=1), "n must"),
    ("n not integer", lambda: simlib.initial_state(10.0, Box.cube(10.0, 2), seed=1), "n must"),
    ("lattice too dense", lambda: simlib.initial_state(1024, Box.cube(20.0, 2), seed=1), "density"),
    ("lattice too dense 3d", lambda: simlib.initial_state(1000, Box.cube(9.0, 3), seed=1), "density"),
    ("bad arrangement", lambda: simlib.initial_state(10, Box.cube(10.0, 2), seed=1, arrangement="hex"),
     "arrangement"),
    ("negative polydispersity",
     lambda: simlib.initial_state(10, Box.cube(10.0, 2), seed=1, polydispersity=-0.1), "polydispersity"),
    ("negative seed", lambda: simlib.initial_state(10, Box.cube(10.0, 2), seed=-1), "seed"),
    ("box < 2 r_cut",
     lambda: Simulation(simlib.initial_state(16, Box.cube(5.9, 2), seed=1), SOFT, Langevin(kT=1.0)),
     "box side"),
    ("box < 2 r_cut 3d",
     lambda: Simulation(simlib.initial_state(16, Box.cube(4.9, 3), seed=1), LJ, Metropolis(kT=1.0)),
     "box side"),
]


@pytest.mark.parametrize("label, make, pattern", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_raises_value_error_naming_the_parameter(label, make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_bad_run_arguments():
    sim = Simulation(simlib.initial_state(16, Box.cube(8.0, 2), seed=1), SOFT, Langevin(kT=1.0))
    with pytest.raises(ValueError, match="n_steps"):
        sim.run(-1)
    with pytest.raises(ValueError, match="n_steps"):
        sim.run(2.0)
    with pytest.raises(ValueError, match="every"):
        sim.run(10, every=0)
    sim.run(0)
    assert sim.state.step == 0


def test_state_shape_checks_name_the_field():
    box = Box.cube(8.0, 2)
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="velocities"):
        State(x, np.zeros((4, 3)), np.zeros((4, 2), np.int64), np.ones(4), box, seed=1)
    with pytest.raises(ValueError, match="diameters"):
        State(x, np.zeros((4, 2)), np.zeros((4, 2), np.int64), np.ones(3), box, seed=1)
    with pytest.raises(ValueError, match="box"):
        State(np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 3), np.int64), np.ones(4), box, seed=1)


# -- initial configurations and observables --------------------------------------------------

def test_course_lattice_and_maxwell_boltzmann_velocities():
    state = simlib.initial_state(1024, Box.cube(40.0, 2), seed=9, kT=2.0, mass=2.0)
    # course: nx = ny = int(sqrt(1024)) + 1 = 33 sites per row, spacing L / 33, row by row
    k = np.arange(1024)
    expected = np.stack([k % 33, k // 33], axis=1) * (40.0 / 33)
    np.testing.assert_allclose(state.positions, expected, rtol=0, atol=1e-12)
    assert np.all(state.diameters == 1.0)
    v = state.velocities
    assert np.all(np.abs(v.sum(axis=0)) < 1e-12)
    # per-component variance T / m = 1 (SE sqrt(2 / 2048) = 0.03)
    assert v.var() == pytest.approx(1.0, abs=0.15)
    sim = Simulation(state, SOFT, VelocityVerlet(dt=0.001))
    th = sim.thermo()
    assert th["kinetic_per_particle"] == pytest.approx(0.5 * 2.0 * np.sum(v**2) / 1024, rel=1e-14)
    assert th["kinetic_temperature"] == pytest.approx(2 * th["kinetic_per_particle"] / 2, rel=1e-14)


def test_thermo_pressure_and_energy_from_all_pairs(soft_disks_equilibrated):
    state = soft_disks_equilibrated.copy()
    sim = Simulation(state, SOFT, Langevin(kT=0.9, dt=0.01))
    f = np.zeros_like(state.positions)
    u, w = energy_forces_all_pairs(state.positions, state.diameters, state.box.lengths, SOFT.code,
                                   SOFT.epsilon, SOFT.r_cut, f)
    th = sim.thermo()
    k = 0.5 * np.sum(state.velocities**2)
    assert th["potential_per_particle"] == pytest.approx(u / state.n, rel=1e-12)
    # virial pressure P = (2K + W) / (d V)
    assert th["pressure"] == pytest.approx((2 * k + w) / (2 * 400.0), rel=1e-12)
    assert th["total_per_particle"] == pytest.approx((k + u) / state.n, rel=1e-12)


def test_every_public_name_exists():
    missing = [name for name in simlib.__all__ if not hasattr(simlib, name)]
    assert not missing, missing
