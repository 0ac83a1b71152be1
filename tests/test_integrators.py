"""Integrators: momentum and energy conservation (velocity Verlet), equipartition and the
exact free-particle MSD (Langevin, course Euler step and BAOAB).

All runs are seeded, so every assertion is deterministic; statistical tolerances are
stated in units of a standard error measured from the data itself.
"""

import numpy as np
import pytest

import simlib
from simlib import Box, Langevin, Potential, Simulation, State, VelocityVerlet, rng
from simlib.potentials import energy_forces_all_pairs

SOFT = Potential("soft12", r_cut=3.0)


def presize_list(sim, capacity):
    """Give the neighbour list room to spare (sidesteps the overflow-retry bug reported
    in test_neighbours.py; results do not depend on the capacity)."""
    st, nl = sim.state, sim.nlist
    nl.capacity = capacity
    nl.allocate(st.n, st.box)
    nl.build(st.positions, st.images, st.box)
    st.list_reference = nl.reference


# -- forces and momentum -------------------------------------------------------------------

def make_system(name):
    """Random (non-lattice) starts, so forces are far from zero, with zero-momentum
    Maxwell-Boltzmann velocities at T = 1."""
    if name == "soft12-2d":
        state = simlib.initial_state(256, Box.cube(24.0, 2), seed=1, arrangement="random", kT=1.0)
        return state, SOFT
    state = simlib.initial_state(216, Box.cube(8.0, 3), seed=2, polydispersity=0.15,
                                 arrangement="random", kT=1.0)
    return state, Potential("lj", r_cut=2.5)


SYSTEMS = ["soft12-2d", "lj-3d-poly"]


@pytest.mark.parametrize("name", SYSTEMS)
def test_total_force_is_zero_to_round_off(name):
    state, pot = make_system(name)
    sim = Simulation(state, pot, VelocityVerlet(dt=0.001))
    total = sim.forces.sum(axis=0)
    scale = np.abs(sim.forces).sum()
    assert scale > 1.0
    # pair forces cancel exactly; only the summation order differs (measured ~4e-17
    # relative); a one-sided image shift or an unpaired force gives O(1)
    assert np.all(np.abs(total) < 1e-14 * scale), total / scale


@pytest.mark.parametrize("name", SYSTEMS)
def test_nve_conserves_total_momentum(name):
    state, pot = make_system(name)
    p0 = state.mass * state.velocities.sum(axis=0)
    scale = state.mass * np.abs(state.velocities).sum()
    # Maxwell-Boltzmann start with the mean velocity removed
    assert np.all(np.abs(p0) < 1e-13 * scale)
    sim = Simulation(state, pot, VelocityVerlet(dt=0.002))
    sim.run(2000)
    assert np.any(state.images != 0)  # particles crossed the box: images were exercised
    p1 = state.mass * state.velocities.sum(axis=0)
    # each step adds dt * (sum of forces) = dt * O(1e-16 sum|F|); after 2000 steps the
    # change is ~1e-16 of the momentum scale sum|m v| (measured); a non-antisymmetric pair
    # force (e.g. a one-sided image shift) would give O(1) changes
    assert np.all(np.abs(p1 - p0) < 1e-13 * scale), (p1 - p0) / scale
    th = sim.thermo()
    assert abs(th["momentum_x"]) < 1e-13 * scale


# -- energy conservation (velocity Verlet) -----------------------------------------------------

def _nve_energies(state, dt, t_total, t_sample):
    sim = Simulation(state, SOFT, VelocityVerlet(dt=dt))
    rows = [sim.thermo()]
    sim.run(int(round(t_total / dt)), every=int(round(t_sample / dt)),
            callback=lambda s: rows.append(s.thermo()))
    e = np.array([r["total_per_particle"] for r in rows])
    k = np.array([r["kinetic_per_particle"] for r in rows])
    return e, k, sim


def test_nve_energy_fluctuation_scales_as_dt_squared(soft_disks_equilibrated):
    """Course assignment 7 (N = 256 instead of 1024 for speed; same density 0.64,
    soft disks r_c = 3.0, equilibrated by Langevin at T* = 0.9): velocity Verlet
    conserves a shadow energy, so the RMS fluctuation of E/N goes as dt^2."""
    rms = {}
    for dt in (0.002, 0.001):
        e, k, _ = _nve_energies(soft_disks_equilibrated.copy(), dt, t_total=2.0, t_sample=0.01)
        rms[dt] = e.std()
        # the test is not vacuous: K/N itself fluctuates far more than E/N
        assert k.std() > 100 * e.std()
    ratio = rms[0.002] / rms[0.001]
    # second order: ratio 4 (measured 4.0); a first-order integrator gives 2
    assert 3.0 <= ratio <= 5.0, (ratio, rms)


def test_nve_energy_drift_over_30_t0_is_small(soft_disks_equilibrated):
    """Course assignment 7: dt = 0.001 for 30 t0, E printed every 1 t0 (N = 256)."""
    e, k, sim = _nve_energies(soft_disks_equilibrated.copy(), 0.001, t_total=30.0, t_sample=1.0)
    assert sim.state.time == pytest.approx(sim.state.time_origin + 30.0, abs=1e-12)
    assert len(e) == 31
    # measured drift ~1e-5 per particle; K/N changes by ~0.05 over the run
    assert np.max(np.abs(e - e[0])) < 1e-4
    assert np.ptp(k) > 0.01


# -- Langevin: equipartition -----------------------------------------------------------------

@pytest.mark.parametrize("scheme, dt, t_run", [("euler", 0.002, 60.0), ("baoab", 0.01, 100.0)])
def test_langevin_equipartition_interacting(soft_disks_equilibrated, block_stats, scheme, dt, t_run):
    """<K>/N = (d/2) T for the soft-disk system (N = 256, T = 0.9). Euler is run at
    dt = 0.002 because its kinetic temperature has an O(dt) bias (0.1% here)."""
    T = 0.9
    state = soft_disks_equilibrated.copy()
    sim = Simulation(state, SOFT, Langevin(kT=T, dt=dt, scheme=scheme))
    sim.run(int(round(5.0 / dt)))  # settle after the change of scheme / dt
    k = []
    sim.run(int(round(t_run / dt)), every=int(round(0.05 / dt)),
            callback=lambda s: k.append(s.thermo()["kinetic_per_particle"]))
    mean, err = block_stats(k)
    # block error of the mean (20 blocks of >= 3 t0, longer than the ~1 t0 velocity
    # correlation time) is ~0.5% of T; 4 standard errors. A factor 2 in the noise
    # variance or a missing friction term moves <K>/N by tens of percent.
    assert err < 0.01 * T
    assert abs(mean - T) < 4.0 * err, (mean, err)


def _ideal_gas(n, dim, L, kT, mass, seed):
    """Non-interacting particles: soft12 with diameters 1e-9, so the pair force is
    negligible (a collision closer than ~1e-9 never happens in these runs)."""
    state = simlib.initial_state(n, Box.cube(L, dim), seed=seed, arrangement="lattice", kT=kT, mass=mass)
    state.diameters[:] = 1e-9
    return state, Potential("soft12", r_cut=0.05)


def test_langevin_temperature_bias_euler_vs_baoab(block_stats):
    """Free particles at dt = 0.01 (zeta = m = 1): the course's Euler step has the exact
    stationary kinetic temperature T / (1 - zeta dt / 2m) (+0.5%), BAOAB (exact
    Ornstein-Uhlenbeck step) has exactly T. Both schemes draw the same Gaussian numbers
    (same seed and counters), so the Euler - BAOAB difference of the *same* trajectory
    is measured with almost no sampling noise."""
    T, dt = 1.0, 0.01
    state0, pot = _ideal_gas(2048, 2, 64.0, T, 1.0, seed=4)
    k = {}
    for scheme in ("euler", "baoab"):
        sim = Simulation(state0.copy(), pot, Langevin(kT=T, dt=dt, scheme=scheme), skin=1.0)
        presize_list(sim, 64)
        sim.run(500)
        samples = []
        sim.run(10000, every=10, callback=lambda s: samples.append(s.thermo()["kinetic_per_particle"]))
        k[scheme] = np.array(samples)
    mean_b, err_b = block_stats(k["baoab"])
    diff, err_diff = block_stats(k["euler"] - k["baoab"])
    euler_bias = T / (1.0 - 0.5 * dt) - T  # exact for the free particle, d/2 = 1
    # BAOAB is unbiased: within 4 standard errors (SE ~ 0.2% of T)
    assert abs(mean_b - T) < 4.0 * err_b, (mean_b, err_b)
    # Euler's offset reproduces the exact formula (paired SE ~ 1e-5, so 2% is ~20 SE)
    assert diff == pytest.approx(euler_bias, rel=0.02), (diff, err_diff)
    assert err_diff < 0.1 * euler_bias
    # BAOAB at dt = 0.01 is closer to T than Euler at dt = 0.01: BAOAB's measured deviation
    # (pure sampling noise, shared by both runs) is smaller than Euler's systematic offset
    assert abs(mean_b - T) < diff
    assert abs(mean_b - T) < abs(k["euler"].mean() - T)


# -- Langevin: free-particle mean-square displacement ----------------------------------------

def exact_msd(t, dim, kT, zeta, mass):
    return 2 * dim * (kT / zeta) * (t - (mass / zeta) * (1.0 - np.exp(-zeta * t / mass)))


@pytest.mark.parametrize("scheme", ["euler", "baoab"])
@pytest.mark.parametrize("dim, mass, zeta, lags", [
    (2, 1.0, 1.0, (0.1, 0.5, 1.0, 2.0, 5.0, 10.0)),
    (3, 2.0, 0.5, (0.1, 0.5, 2.0, 5.0, 10.0, 20.0)),  # catches a missing m or zeta factor
])
def test_free_particle_msd_is_exact_langevin(scheme, dim, mass, zeta, lags):
    """<dr^2>(t) = 2 d (T/zeta) [t - (m/zeta)(1 - exp(-zeta t / m))] (course assignment 5),
    from unwrapped positions of 1024 independent particles, time-origin averaged."""
    T, dt, sample = 1.0, 0.01, 0.1
    L = 80.0 if dim == 2 else 20.0
    state, pot = _ideal_gas(1024, dim, L, T, mass, seed=6)
    sim = Simulation(state, pot, Langevin(kT=T, dt=dt, friction=zeta, scheme=scheme), skin=1.0)
    presize_list(sim, 64)
    sim.run(int(round(5.0 * mass / zeta / dt)))  # equilibrate the velocities
    frames = [state.unwrapped_positions()]
    sim.run(int(round(50.0 / dt)), every=int(round(sample / dt)),
            callback=lambda s: frames.append(s.state.unwrapped_positions()))
    frames = np.array(frames)
    assert np.any(state.images != 0)
    for lag_t in lags:
        lag = int(round(lag_t / sample))
        d2 = np.sum((frames[lag:] - frames[:-lag]) ** 2, axis=2)  # (origins, N)
        per_particle = d2.mean(axis=0)  # independent across particles
        msd = per_particle.mean()
        err = per_particle.std(ddof=1) / np.sqrt(len(per_particle))
        expected = exact_msd(lag_t, dim, T, zeta, mass)
        # 4 standard errors (1-3% of the MSD) plus 1% for the O(dt) discretisation
        # error of the Euler step at short lags; a missing mass or friction factor
        # changes the MSD by a factor ~2 at some lag
        assert abs(msd - expected) < 4.0 * err + 0.01 * expected, (lag_t, msd, expected, err)


# -- parameters --------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(kT=0.0), "kT"), (dict(kT=-1.0), "kT"), (dict(kT=np.nan), "kT"),
    (dict(kT=1.0, dt=0.0), "dt"), (dict(kT=1.0, dt=-0.01), "dt"),
    (dict(kT=1.0, friction=0.0), "friction"), (dict(kT=1.0, scheme="verlet"), "scheme"),
    (dict(kT="1"), "kT"), (dict(kT=1.0, limit=0.0), "limit"), (dict(kT=1.0, limit=np.nan), "limit"),
])
def test_bad_langevin_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Langevin(**kwargs)


@pytest.mark.parametrize("dt", [0.0, -1e-3, np.inf])
def test_bad_verlet_dt_raises_value_error(dt):
    with pytest.raises(ValueError, match="dt"):
        VelocityVerlet(dt=dt)


# -- one step by hand ----------------------------------------------------------------------------

def _forces(pot, x, diameters, box):
    f = np.zeros_like(x)
    energy_forces_all_pairs(x, diameters, box.lengths, pot.code, pot.epsilon, pot.r_cut, f)
    return f


def _noise(seed, step, n, dim):
    """The documented Langevin counters: particle i at step s uses normal_pair at
    counter (s, 2 i) for its first two components and (s, 2 i + 1) for the third."""
    g = np.empty((n, dim))
    for i in range(n):
        pair0 = rng.normal_pair(seed, rng.STREAM_LANGEVIN, step, 2 * i)
        pair1 = rng.normal_pair(seed, rng.STREAM_LANGEVIN, step, 2 * i + 1)
        g[i] = (list(pair0) + list(pair1))[:dim]
    return g


@pytest.mark.parametrize("dim", [2, 3])
def test_step_noise_is_the_documented_normals_bitwise(dim):
    """The kernels draw a step's Threefry words in a vectorised loop of their own; the
    normals are still normal_pair's at the documented counters, bit for bit, including
    the ziggurat's rare rejections (about 1 % of 2 x 3000 draws)."""
    from simlib.integrators import _NOISE

    n, seed, step = 3000, 12345, 678
    expected = _noise(seed, step, n, dim)
    for kernel in (_NOISE[(dim == 3, False)], _NOISE[(dim == 3, True)]):
        words = np.empty((3 if dim == 3 else 2, n), dtype=np.uint64)
        noise = np.zeros((n, dim))
        kernel(seed, np.uint64(step), words, noise)
        assert np.array_equal(noise, expected)


@pytest.mark.parametrize("scheme", ["euler", "baoab", "verlet"])
def test_steps_follow_the_documented_update_rules(scheme):
    """Three steps against a plain numpy transcription of the course's equations
    (m dv = (-zeta v + F) dt + sqrt(2 zeta T dt) R; BAOAB; velocity Verlet) with
    m = 1.7, zeta = 0.6, T = 1.3 so that every factor is visible."""
    box = Box.cube(8.0, 3)
    pot = Potential("lj", r_cut=2.5)
    x0 = np.array([[1.0, 1.0, 1.0], [2.1, 1.3, 0.9], [7.9995, 1.2, 1.4], [4.0, 4.0, 4.0]])
    v0 = np.array([[0.3, -0.2, 0.1], [-0.5, 0.4, 0.0], [0.2, 0.1, -0.3], [1.0, -1.0, 0.5]])
    mass, zeta, kT, dt = 1.7, 0.6, 1.3, 0.01
    state = State(x0.copy(), v0.copy(), np.zeros((4, 3), np.int64), np.ones(4), box, seed=77, mass=mass)
    method = VelocityVerlet(dt=dt) if scheme == "verlet" else Langevin(kT=kT, dt=dt, friction=zeta, scheme=scheme)
    sim = Simulation(state, pot, method)
    sim.run(3)

    x, v = x0.copy(), v0.copy()
    f = _forces(pot, x, state.diameters, box)
    assert np.abs(f).max() > 1.0
    c1 = np.exp(-zeta * dt / mass)
    c2 = np.sqrt((1 - c1**2) * kT / mass)
    for step in range(3):
        g = _noise(77, step, 4, 3)
        if scheme == "euler":
            v = v + ((-zeta * v + f) * dt + np.sqrt(2 * zeta * kT * dt) * g) / mass
            x = x + v * dt
            f = _forces(pot, x % 8.0, state.diameters, box)
        elif scheme == "baoab":
            v = v + 0.5 * dt * f / mass
            x = x + 0.5 * dt * v
            v = c1 * v + c2 * g
            x = x + 0.5 * dt * v
            f = _forces(pot, x % 8.0, state.diameters, box)
            v = v + 0.5 * dt * f / mass
        else:
            v = v + 0.5 * dt * f / mass
            x = x + v * dt
            f = _forces(pot, x % 8.0, state.diameters, box)
            v = v + 0.5 * dt * f / mass
    # particle 2 crossed x = 8: compare unwrapped positions; round-off only (1e-13)
    assert state.images[2, 0] == 1
    np.testing.assert_allclose(state.unwrapped_positions(), x, rtol=0, atol=1e-13)
    np.testing.assert_allclose(state.velocities, v, rtol=0, atol=1e-13)
    np.testing.assert_allclose(sim.forces, f, rtol=0, atol=1e-12 * np.abs(f).max())


# -- displacement limit (the hot quench at large N) ---------------------------------------------

def _overlapping_pair(distance):
    box = Box.cube(10.0, 2)
    x = np.array([[5.0, 5.0], [5.0 + distance, 5.0]])
    return State(x, np.zeros((2, 2)), np.zeros((2, 2), np.int64), np.ones(2), box, seed=3)


def test_displacement_limit_keeps_a_violent_start_stable_and_counts_its_steps():
    # r = 0.6 a: the LJ force (~4e4) moves a particle ~3.7 a in one Euler step at dt = 0.01,
    # far beyond max_move: a blow-up without the limit
    lj = Potential("lj", r_cut=2.5)
    with pytest.raises(simlib.SimulationError, match="blow-up"):
        Simulation(_overlapping_pair(0.6), lj, Langevin(kT=5.0, dt=0.01)).run(10)
    state = _overlapping_pair(0.6)
    sim = Simulation(state, lj, Langevin(kT=5.0, dt=0.01, limit=0.1))
    previous = state.box.unwrap(state.positions, state.images)
    for _ in range(50):
        sim.run(1)
        now = state.box.unwrap(state.positions, state.images)
        assert np.all(np.linalg.norm(now - previous, axis=1) <= 0.1 * (1 + 1e-12))
        previous = now
    assert sim.limited >= 2  # both particles on the first step
    r = np.linalg.norm(now[1] - now[0])
    assert r > 1.0 and np.isfinite(sim.potential_energy)  # pushed apart, not exploded


def test_displacement_limit_that_never_acts_gives_the_same_bits():
    lj = Potential("lj", r_cut=2.5)
    runs = []
    for limit in (None, 0.45):
        state = simlib.initial_state(400, Box.cube(25.0, 2), seed=8, polydispersity=0.1)
        sim = Simulation(state, lj, Langevin(kT=1.0, dt=0.005, limit=limit))
        sim.run(200)
        assert sim.limited == 0
        runs.append((state.positions.copy(), state.velocities.copy(), sim.potential_energy))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


def test_displacement_limit_must_be_below_max_move():
    with pytest.raises(ValueError, match="limit"):
        Simulation(_overlapping_pair(1.2), Potential("lj", r_cut=2.5), Langevin(kT=1.0, limit=0.5), max_move=0.5)
