"""Public API edge cases (issue 14, items 2 and 12): a bad argument gets a clear error
naming it, and positions outside [0, L) are wrapped on entry with their images recorded,
so the centred convention gives the same physics as the wrapped one.

Tolerances: the potential energy of a configuration and of the same configuration
shifted by -L/2 agree to 1e-12 relative (wrapping changes positions by rounding only);
unwrapped positions agree to 1e-12 absolute.
"""

import numpy as np
import pytest

import simlib
from simlib.simulation import Simulation, SimulationError

LJ = simlib.Potential("lj", r_cut=2.5)


def _liquid():
    state = simlib.initial_state(256, simlib.Box.cube(25.0, 2), seed=5, kT=1.0)
    Simulation(state, LJ, simlib.Langevin(kT=1.0, dt=0.01)).run(200)
    return state


def test_centred_positions_are_wrapped_on_entry_and_give_the_same_energy():
    ref = _liquid()
    u_ref = Simulation(ref.copy(), LJ, simlib.Langevin(kT=1.0, dt=0.01)).thermo()["potential_per_particle"]
    shifted = ref.copy()
    half = 0.5 * shifted.box.lengths
    unwrapped = shifted.unwrapped_positions() - half
    shifted.positions -= half  # the centred convention [-L/2, L/2)
    assert np.any(shifted.positions < 0)
    sim = Simulation(shifted, LJ, simlib.Langevin(kT=1.0, dt=0.01))
    assert np.all((shifted.positions >= 0) & (shifted.positions < shifted.box.lengths))
    np.testing.assert_allclose(shifted.unwrapped_positions(), unwrapped, rtol=0, atol=1e-12)
    assert sim.thermo()["potential_per_particle"] == pytest.approx(u_ref, rel=1e-12)


def test_state_built_from_centred_positions_is_wrapped_with_images():
    box = simlib.Box.cube(10.0, 2)
    x = np.array([[-4.0, 4.9], [-0.5, -5.0], [3.0, 0.0]])
    state = simlib.State(x.copy(), np.zeros_like(x), np.zeros((3, 2), dtype=np.int64), np.ones(3), box, seed=1)
    assert np.all((state.positions >= 0) & (state.positions < 10.0))
    np.testing.assert_allclose(state.unwrapped_positions(), x, atol=1e-12)
    assert state.images.tolist() == [[-1, 0], [-1, -1], [0, 0]]


def _state():
    return simlib.initial_state(64, simlib.Box.cube(12.0, 2), seed=1)


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda: _sim_with(lambda s: s.positions.__setitem__(1, s.positions[0])), SimulationError,
         r"particles 0 and 1 .*same position"),
        (lambda: _sim_with(lambda s: s.positions.__setitem__(slice(None), np.nan)), SimulationError,
         r"positions.*not finite"),
        (lambda: _sim_with(lambda s: s.positions.__setitem__((7, 1), np.nan)), SimulationError,
         r"positions: 1 particle.*not finite, first particle 7"),
        (lambda: _sim_with(lambda s: s.velocities.__setitem__((3, 0), np.inf)), SimulationError,
         r"velocities.*not finite"),
        (lambda: simlib.initial_state(64, simlib.Box.cube(12.0, 2), seed=1, kT=-1), ValueError, r"kT .*positive"),
        (lambda: simlib.initial_state(64, simlib.Box.cube(12.0, 2), seed=1, kT=float("nan")), ValueError, r"kT"),
        (lambda: simlib.initial_state(64, simlib.Box.cube(12.0, 2), seed=1, polydispersity="0.1"), ValueError,
         r"polydispersity"),
        (lambda: simlib.Box.cube(10, 2.5), ValueError, r"dim .*2 or 3.*2\.5"),
        (lambda: simlib.Box.cube(10, 4), ValueError, r"dim"),
        (lambda: simlib.Box.cube("10", 2), ValueError, r"side .*'10'"),
        (lambda: simlib.Box.cube(float("inf"), 2), ValueError, r"side .*finite"),
        (lambda: Simulation(_state(), LJ, simlib.Langevin(kT=1.0, dt=0.01)).run(10, every=2.7), ValueError,
         r"every .*integer.*2\.7"),
        (lambda: Simulation(_state(), LJ, simlib.Langevin(kT=1.0, dt=0.01)).run(10, every=0), ValueError, r"every"),
        (lambda: Simulation(_state(), LJ, simlib.Langevin(kT=1.0, dt=0.01)).run(10, every=2, callback=3),
         ValueError, r"callback"),
        (lambda: simlib.Potential("lj", r_cut="2.5"), ValueError, r"r_cut .*'2\.5'"),
        (lambda: simlib.Potential("lj", epsilon=None), ValueError, r"epsilon"),
        (lambda: Simulation(_state(), LJ, simlib.Langevin(kT=1.0, dt=0.01), skin="0.3"), ValueError, r"skin"),
        (lambda: Simulation(_state(), "lj", simlib.Langevin(kT=1.0, dt=0.01)), ValueError, r"potential"),
    ],
    ids=["identical_positions", "all_nan", "one_nan", "inf_velocity", "negative_kT", "nan_kT",
         "string_polydispersity", "fractional_dim", "dim_4", "string_side", "inf_side", "fractional_every",
         "zero_every", "callback_not_callable", "string_r_cut", "none_epsilon", "string_skin", "string_potential"],
)
def test_bad_argument_gets_a_clear_error_naming_it(make, error, pattern):
    with pytest.raises(error, match=pattern) as err:
        make()
    assert "\n" not in str(err.value)


def _sim_with(change):
    state = _state()
    change(state)
    return Simulation(state, LJ, simlib.Langevin(kT=1.0, dt=0.01))


def test_identical_positions_are_fine_for_ideal_particles():
    state = _state()
    state.positions[1] = state.positions[0]
    Simulation(state, simlib.Potential("ideal", r_cut=1.0), simlib.Langevin(kT=1.0, dt=0.01)).run(10)
