"""Analysis of simlib trajectories and thermo tables (plain numpy in, named results out).

Everything is in reduced Lennard-Jones units: length = particle diameter
([length]), time t0 ([time]), energy eps ([energy]), k_B = 1. Nothing here
depends on the simulation engine.

Modules
-------
statistics
    Block averaging and honest error bars of correlated time series.
diffusion
    MSD (FFT or direct), VACF, D from the MSD slope and from Green-Kubo, and the
    exact free Langevin particle.
structure
    g(r), S(k), local-density fluctuation and cluster analysis.
energy
    Energy drift and fluctuations of NVE runs, drift-vs-dt tables.
acceptance
    Metropolis acceptance rate vs trial displacement with binomial errors.

Analysis classes follow freud: the constructor takes parameters only,
``compute(...)`` returns ``self``, results are read-only properties that raise
:class:`NotComputedError` before ``compute``.
"""

from ._common import NotComputedError
from .acceptance import acceptance_table
from .diffusion import (
    MSD,
    VACF,
    DiffusionFit,
    GreenKubo,
    OnTheFlyVACF,
    UnresolvedVACFError,
    fit_diffusion,
    green_kubo_diffusion,
    langevin_free_msd,
    langevin_free_vacf,
)
from .energy import THERMO_COLUMNS, EnergyConservation, drift_vs_timestep, energy_conservation
from .statistics import BlockAverage, MeanWithError, block_average, mean_with_error
from .structure import (
    RDF,
    ClusterAnalysis,
    DensityFluctuation,
    StaticStructureFactor,
    local_density_fluctuation,
)

__all__ = [
    "NotComputedError",
    "acceptance_table",
    "MSD",
    "VACF",
    "DiffusionFit",
    "GreenKubo",
    "OnTheFlyVACF",
    "UnresolvedVACFError",
    "fit_diffusion",
    "green_kubo_diffusion",
    "langevin_free_msd",
    "langevin_free_vacf",
    "THERMO_COLUMNS",
    "EnergyConservation",
    "drift_vs_timestep",
    "energy_conservation",
    "BlockAverage",
    "MeanWithError",
    "block_average",
    "mean_with_error",
    "RDF",
    "ClusterAnalysis",
    "DensityFluctuation",
    "StaticStructureFactor",
    "local_density_fluctuation",
]
