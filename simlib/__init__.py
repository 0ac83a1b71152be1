"""simlib: numba engine for Langevin, NVE and Metropolis Monte Carlo of disks and spheres.

All quantities are in reduced Lennard-Jones units: [length] = particle diameter a,
[energy] = eps, [mass] = m, [time] = t0 = sqrt(m a^2 / eps), k_B = 1.

Modules, each using only those above it:
``rng`` (counter-based random numbers), ``geometry`` (periodic box),
``potentials`` (pair potentials), ``neighbours`` (cell and Verlet lists),
``state`` (microstate and observables), ``configurations`` (initial states),
``integrators`` (Langevin, velocity Verlet), ``mc`` (Metropolis), ``simulation``
(composition), ``io`` (netCDF files), ``analysis`` (MSD, g(r), S(k), statistics).
"""

from ._cache import configure as _configure_cache

_configure_cache()  # before any kernel module is imported

import numba as _numba  # noqa: E402

# one thread per process unless asked for more (numba.set_num_threads, a rule's
# `threads:`): `snakemake --cores 8` then runs eight single-threaded jobs side by side.
# Results do not depend on the thread count, only the speed does.
_numba.set_num_threads(1)

from .configurations import initial_state, lattice_positions, polydisperse_diameters  # noqa: E402
from .geometry import Box  # noqa: E402
from .integrators import Langevin, VelocityVerlet  # noqa: E402
from .mc import Metropolis, MoveSizeTuner  # noqa: E402
from .potentials import Potential  # noqa: E402
from .simulation import Simulation, SimulationError, tune_move_size  # noqa: E402
from .state import State  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Box",
    "Langevin",
    "Metropolis",
    "MoveSizeTuner",
    "Potential",
    "Simulation",
    "SimulationError",
    "State",
    "VelocityVerlet",
    "initial_state",
    "lattice_positions",
    "polydisperse_diameters",
    "tune_move_size",
    "__version__",
]
