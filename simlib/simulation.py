"""A simulation composed of a state, a potential and one method (HOOMD-style).

>>> import simlib
>>> state = simlib.initial_state(64, simlib.Box.cube(10.0, 2), seed=1)
>>> sim = simlib.Simulation(state, simlib.Potential("soft12", r_cut=3.0),
...                         simlib.Langevin(kT=1.0, dt=0.005))
>>> sim.run(100)
>>> sim.state.step
100
"""

import dataclasses

import numba
import numpy as np

from .checkerboard import checkerboard_grid, run_checkerboard
from .integrators import LIST_OVERFLOW, NON_FINITE, OK, TOO_FAST, VERLET, run_dynamics
from .mc import Metropolis, run_metropolis
from .neighbours import NeighbourList, closest_scaled_pair
from .potentials import HARD, LJ_UNSHIFTED, energy_forces_list
from .state import check_real, kinetic_energy, pressure, total_momentum, wrap_into_box


class SimulationError(RuntimeError):
    """A run stopped because the numbers went bad; the message says where and why."""


def _check_entry(state, potential, skin, max_move):
    """Argument checks of :class:`Simulation` in plain Python, before any kernel runs.

    Positions outside [0, L) are wrapped (images recorded); NaN or inf, and two
    particles at one position (a zero pair distance divides by zero in the force),
    are refused with :class:`SimulationError`.
    """
    from .potentials import Potential
    from .state import State

    if not isinstance(state, State):
        raise ValueError(f"state must be a simlib.State, got {type(state).__name__}")
    if not isinstance(potential, Potential):
        raise ValueError(f"potential must be a simlib.Potential, got {type(potential).__name__}")
    check_real("skin", skin, positive=True, allow_none=True)
    check_real("max_move", max_move, positive=True)
    try:
        wrap_into_box(state)
    except ValueError as err:
        raise SimulationError(str(err)) from None
    if potential.kind != "ideal":
        order = np.lexsort(state.positions.T[::-1])
        ordered = state.positions[order]
        same = np.flatnonzero(np.all(ordered[1:] == ordered[:-1], axis=1))
        if same.size:
            i, j = sorted((int(order[same[0]]), int(order[same[0] + 1])))
            raise SimulationError(
                f"state.positions: particles {i} and {j} are at the same position {state.positions[i].tolist()}"
            )


class Simulation:
    """Advance a :class:`~simlib.state.State` with one method.

    Parameters
    ----------
    state : State
        Modified in place by :meth:`run`.
    potential : Potential
    method : Langevin, VelocityVerlet or Metropolis
    skin : float or None, default None
        Neighbour-list skin [length]. None picks :meth:`default_skin`. Changes cost only.
    max_move : float, default 0.5
        A particle moving more than this in one MD step [length] stops the run
        (dt too large). It does not depend on the skin, so the skin never changes results.
    resume : bool, default False
        False starts a new stage (stage time origin, list-build and acceptance
        counters reset); True continues the stage recorded in ``state`` (restart
        from a checkpoint of the same stage).

    Attributes
    ----------
    limited : int
        Particle-steps shortened by the method's displacement ``limit`` (Langevin).
    """

    def __init__(self, state, potential, method, skin=None, max_move=0.5, resume=False):
        _check_entry(state, potential, skin, max_move)
        limit = getattr(method, "limit", None)
        if limit is not None and not limit < max_move:
            raise ValueError(f"langevin.limit {limit} must be below max_move {max_move}")
        self.state = state
        self.potential = potential
        self.method = method
        self.max_move = float(max_move)
        self.limited = 0
        self.is_mc = isinstance(method, Metropolis)
        if potential.kind == "hard" and not self.is_mc:
            raise ValueError("potential.kind 'hard' is for Monte Carlo only")
        if potential.code == LJ_UNSHIFTED and not self.is_mc and method.code == VERLET:
            raise ValueError(
                "potential.shift=False is refused for NVE: energy is not conserved across an "
                "unshifted cut-off; use shift=True (or lj_smooth) for velocity Verlet"
            )
        r_int = potential.interaction_range(state.diameters)
        if np.any(state.box.lengths < 2.0 * r_int):
            raise ValueError(
                f"box side {float(np.min(state.box.lengths)):.4g} is smaller than twice the "
                f"interaction range {r_int:.4g}: minimum image would miss interactions"
            )
        if skin is None:
            skin = self.default_skin(method, state.dim)
        self.skin = float(skin)
        self.cells = None
        if self.is_mc and method.checkerboard:
            self.cells = checkerboard_grid(state.box.lengths, self._mc_range_of(r_int), state.n)
        if self.is_mc:
            self._check_move_size(method.move_size)
        if not resume:
            state.begin_stage(method.dt)
        # dynamics evaluates each pair once from a half list (on any number of threads);
        # Monte Carlo needs full rows
        self.nlist = NeighbourList(r_int, self.skin, half=not self.is_mc)
        self.forces = np.zeros_like(state.positions)
        self._setup_list()
        self._energy, self._virial = self._compute_forces()
        self._check_start()

    @staticmethod
    def default_skin(method, dim):
        """Skin [length] chosen for speed (``bench/engine.py``): 0.4 for dynamics and
        checkerboard Monte Carlo (whose list only serves the checks at the start: its
        kernel sums the energy from its own cells); for serial Monte Carlo 0.9, or more
        when the move size needs it."""
        if isinstance(method, Metropolis) and not method.checkerboard:
            return max(0.9, 2.5 * np.sqrt(dim) * method.move_size)
        return 0.4

    # -- set-up -----------------------------------------------------------------
    def _check_move_size(self, move_size):
        limit = self.move_size_limit
        if self.cells is not None and move_size >= limit:
            raise ValueError(
                f"metropolis.move_size {move_size:.4g} too large for the checkerboard's cells: "
                f"must be < half the cell width = {limit:.4g}"
            )
        if move_size >= limit:
            raise ValueError(
                f"metropolis.move_size {move_size:.4g} too large for skin {self.skin:.4g}: "
                f"must be < skin / (2 sqrt(d)) = {limit:.4g}"
            )
        if move_size > 0.5 * float(np.min(self.state.box.lengths)):
            raise ValueError("metropolis.move_size must be smaller than half the box")

    @property
    def move_size_limit(self):
        """Largest Monte Carlo move size [length]: what the skin allows (serial), or half
        the narrowest cell (checkerboard; beyond it most trials leave their cell)."""
        if self.cells is not None:
            return 0.5 * float(np.min(self.state.box.lengths / self.cells))
        return self.skin / (2.0 * np.sqrt(self.state.dim))

    def _setup_list(self):
        st = self.state
        if self.cells is not None:
            # checkerboard Monte Carlo keeps no list: this one only serves the checks at the
            # start, and the state records none (a resumed run then equals an unbroken one)
            self.nlist.build(st.positions, st.images, st.box)
            st.list_reference = None
            return
        ref = st.list_reference
        if ref is not None and ref.shape == st.positions.shape:
            # rebuild the list exactly as it was when the reference was taken
            self._rebuild_at_reference(ref.copy())
            self.nlist.n_builds = st.list_builds
            if not self.nlist.needs_rebuild(st.positions, st.images, st.box):
                return
        self.nlist.build(st.positions, st.images, st.box)
        st.list_builds += 1
        st.list_reference = self.nlist.reference

    def _compute_forces(self):
        st = self.state
        pot = self.potential
        return energy_forces_list(
            st.positions, st.diameters, st.box.lengths, pot.code, pot.epsilon, pot.r_cut,
            self.nlist.neighbours, self.nlist.counts, self.forces, _parallel() and self.nlist.half,
            self.nlist.half,
        )

    # closer than this fraction of a_ij at the start is an overlap, not a configuration
    overlap_ratio = 0.5

    def _check_start(self):
        st = self.state
        if self.potential.kind == "ideal":
            return
        i, j, ratio = closest_scaled_pair(
            st.positions, st.diameters, st.box.lengths, self.nlist.neighbours, self.nlist.counts
        )
        limit = 1.0 if self.potential.kind == "hard" else self.overlap_ratio
        if i >= 0 and (ratio < limit or not np.isfinite(self._energy)):
            raise SimulationError(
                f"overlapping particles at start: particles {i} and {j} are {ratio:.3g} a_ij apart "
                f"(step {st.step}); use a lower density, a lattice start or a random non-overlapping placement"
            )

    # -- running ----------------------------------------------------------------
    def run(self, n_steps, every=None, callback=None):
        """Advance ``n_steps`` MD steps (or MC sweeps).

        If ``every`` is given, ``callback(self)`` is called after every ``every``
        steps (and after the last chunk). Raises :class:`SimulationError` on a
        numerical blow-up, leaving ``state`` at the last completed chunk.
        """
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
        remaining = int(n_steps)
        if every is not None and (
            isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every <= 0
        ):
            raise ValueError(f"every must be a positive integer, got {every!r}")
        if callback is not None and not callable(callback):
            raise ValueError(f"callback must be callable, got {callback!r}")
        chunk = remaining if every is None else int(every)
        while remaining > 0:
            this = min(chunk, remaining)
            self._advance(this)
            remaining -= this
            if callback is not None:
                callback(self)

    def _snapshot(self):
        st = self.state
        return (
            st.positions.copy(), st.images.copy(), st.velocities.copy(), self.forces.copy(),
            self.nlist.reference.copy(),
        )

    def _restore(self, snap):
        st = self.state
        st.positions[...], st.images[...], st.velocities[...], self.forces[...] = snap[:4]
        self._rebuild_at_reference(snap[4])

    def _rebuild_at_reference(self, reference):
        """The list a build at the unwrapped positions ``reference`` gives (not counted as
        a build: the run's own builds are what the state counts)."""
        st = self.state
        wrapped = reference.copy()
        st.box.wrap(wrapped, np.zeros(wrapped.shape, dtype=np.int64))
        self.nlist.build(wrapped, np.zeros(wrapped.shape, dtype=np.int64), st.box)
        self.nlist.n_builds -= 1
        self.nlist.reference = reference
        st.list_reference = self.nlist.reference

    def _advance(self, n_steps):
        st = self.state
        snap = self._snapshot()
        while True:
            result = self._kernel(n_steps)
            status, done, info = result[0], result[1], result[-1]
            if status == OK:
                break
            if status == LIST_OVERFLOW:
                self.nlist.capacity = int(np.ceil(1.25 * info))
                self._restore(snap)  # rebuilds the list with the new capacity
                continue
            self._restore(snap)
            bad_step = st.step + done + 1
            t_bad = st.time_origin + (bad_step - st.step_origin) * st.dt
            if status == TOO_FAST:
                raise SimulationError(
                    f"blow-up at step {bad_step} (t={t_bad:.6g}): particle {info} moved more than "
                    f"{self.max_move} in one step; dt={self.method.dt} is likely too large, try a smaller dt"
                )
            if status == NON_FINITE:
                raise SimulationError(
                    f"blow-up at step {bad_step} (t={t_bad:.6g}): the potential energy is not finite "
                    f"(particles overlap); dt={self.method.dt} is likely too large, try a smaller dt"
                )
            raise SimulationError(f"unknown kernel status {status}")
        if self.is_mc:
            _, _, accepted, builds, _ = result
            st.mc_trials += n_steps * st.n
            st.mc_accepted += int(accepted)
            if self.cells is None:  # the checkerboard kernel returns them; the list is not kept
                self._energy, self._virial = self._compute_forces()
        else:
            _, _, self._energy, self._virial, builds, limited, _ = result
            self.limited += int(limited)
        st.step += n_steps
        st.time = st.time_origin + (st.step - st.step_origin) * st.dt
        st.list_builds += int(builds)
        self.nlist.n_builds += int(builds)
        if self.cells is None:
            st.list_reference = self.nlist.reference

    def _kernel(self, n_steps):
        st = self.state
        pot = self.potential
        m = self.method
        nl = self.nlist
        if self.cells is not None:
            accepted, _, self._energy, self._virial = run_checkerboard(
                st.positions, st.images, st.diameters, st.box.lengths, pot.code, pot.epsilon,
                self._mc_range(), self.cells, np.uint64(st.seed), st.step, n_steps, m.move_size, m.kT,
                _parallel(),
            )
            return OK, n_steps, accepted, 0, 0
        if self.is_mc:
            return run_metropolis(
                st.positions, st.images, st.diameters, st.box.lengths, pot.code, pot.epsilon,
                self._mc_range(), self.skin, nl.neighbours, nl.counts, nl.reference,
                np.uint64(st.seed), st.step, n_steps, m.move_size, m.kT,
            )
        result = run_dynamics(
            m.code, st.positions, st.images, st.velocities, self.forces, st.diameters,
            st.box.lengths, pot.code, pot.epsilon, pot.r_cut, self.skin, nl.neighbours,
            nl.counts, nl.reference, np.uint64(st.seed), st.step, n_steps, m.dt, m.kT,
            m.friction, st.mass, self.max_move, np.inf if m.limit is None else m.limit, _parallel(),
        )
        nl.neighbours = result[-1]  # wider if a build in the run needed more room
        nl.capacity = nl.neighbours.shape[1]
        return result[:-1]

    def _mc_range(self):
        return self._mc_range_of(self.nlist.r_interaction)

    def _mc_range_of(self, r_interaction):
        """The distance within which Monte Carlo sums pair energies: the cut-off, or for
        hard particles the interaction range (largest contact distance)."""
        if self.potential.code == HARD:
            return r_interaction
        return self.potential.r_cut

    def set_move_size(self, move_size):
        """Change the Monte Carlo move size (for tuning during equilibration)."""
        self._check_move_size(move_size)
        self.method = dataclasses.replace(self.method, move_size=float(move_size))

    # -- observables --------------------------------------------------------------
    @property
    def potential_energy(self):
        """Total potential energy U [energy], including the tail correction if enabled."""
        u_tail, _ = self.potential.tail(self.state.diameters, self.state.density, self.state.dim)
        return float(self._energy) + self.state.n * u_tail

    @property
    def virial(self):
        """Pair virial ``W = sum_{i<j} r_ij . F_ij`` [energy]."""
        return float(self._virial)

    def thermo(self):
        """Current observables as a dict of floats (per-particle energies in [energy])."""
        st = self.state
        n, d = st.n, st.dim
        kin = kinetic_energy(st.velocities, st.mass)
        pot = self.potential_energy
        _, p_tail = self.potential.tail(st.diameters, st.density, d)
        momentum = total_momentum(st.velocities, st.mass)
        row = {
            "step": st.step,
            "time": st.time,
            "stage_time": st.time - st.time_origin,
            "kinetic_per_particle": kin / n,
            "potential_per_particle": pot / n,
            "total_per_particle": (kin + pot) / n,
            "kinetic_temperature": 2.0 * kin / (d * n),
            "pressure": pressure(kin, self.virial, st.box.volume, d, p_tail),
            "momentum_x": float(momentum[0]),
            "momentum_y": float(momentum[1]),
            "momentum_z": float(momentum[2]) if d == 3 else 0.0,
            "list_builds": st.list_builds,
        }
        if self.is_mc:
            # velocities play no part in Monte Carlo: report the canonical kinetic
            # averages at the sampling temperature instead of stale velocities
            kT = self.method.kT
            row["kinetic_per_particle"] = 0.5 * d * kT
            row["total_per_particle"] = 0.5 * d * kT + pot / n
            row["kinetic_temperature"] = kT
            row["pressure"] = pressure(0.5 * d * n * kT, self.virial, st.box.volume, d, p_tail)
            row["acceptance"] = st.mc_accepted / st.mc_trials if st.mc_trials else np.nan
            row["move_size"] = self.method.move_size
        return row

    @property
    def is_nve(self):
        return not self.is_mc and self.method.code == VERLET


def _parallel():
    """Use the parallel kernels only when numba has more than one thread (same bits)."""
    return numba.get_num_threads() > 1


def tune_move_size(sim, tuner, sweeps_per_update=10, max_updates=100):
    """Tune a Monte Carlo simulation's move size with ``tuner`` (equilibration only).

    Runs up to ``max_updates * sweeps_per_update`` sweeps and returns the number of
    sweeps run. Stops early once ``tuner.tuned``.
    """
    if not sim.is_mc:
        raise ValueError("tune_move_size needs a Metropolis simulation")
    limit = 0.999 * sim.move_size_limit
    done = 0
    for _ in range(max_updates):
        trials0, accepted0 = sim.state.mc_trials, sim.state.mc_accepted
        sim.run(sweeps_per_update)
        done += sweeps_per_update
        new = tuner.update(
            sim.method.move_size, sim.state.mc_trials - trials0, sim.state.mc_accepted - accepted0, limit
        )
        if tuner.tuned:
            break
        sim.set_move_size(new)
    return done
