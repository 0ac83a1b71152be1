"""Static structure of a periodic configuration: g(r), S(k) and phase separation.

Reduced LJ units: lengths in particle diameters ([length]), wave numbers in
[1/length]. Boxes are orthorhombic and periodic, given as the array of side
lengths ``box = [Lx, Ly]`` (2D) or ``[Lx, Ly, Lz]`` (3D); positions have shape
(N, d) with the same d and may lie outside the box (they are wrapped). In 2D
"volume" means area and shells are annuli.

Contents: :class:`RDF` (g(r), partial g_ab(r)), :class:`StaticStructureFactor`
(S(k)), and two phase-separation measures, :func:`local_density_fluctuation`
and :class:`ClusterAnalysis` (largest-cluster fraction).
"""

from dataclasses import dataclass

import numpy as np

from ._common import check_points, check_positive, require_computed
from ._kernels import (
    cell_grid,
    cluster_roots,
    density_modes,
    half_space_wave_vectors,
    pair_histogram,
)


def _shell_volumes(edges, dim):
    if dim == 2:
        return np.pi * np.diff(edges**2)
    return 4.0 / 3.0 * np.pi * np.diff(edges**3)


class RDF:
    """Radial distribution function g(r) of a periodic configuration.

    g(r) is normalised by the ideal gas of the same N in the same box,

        g(r) = V / (N (N - 1)) * n_pairs(r) / v_shell(r),

    with n_pairs the number of ordered pairs (i != j) at distance in the shell
    and v_shell its volume (area in 2D), so that g -> 1 exactly on average for
    uniformly random points (like freud's ``normalization_mode='finite_size'``).
    Partial g_ab(r) uses N_a N_b (a != b) or N_a (N_a - 1) (a == b) instead.
    Over several frames (``reset=False``) pair counts and ideal-gas counts are
    summed separately and divided at the end.

    Parameters
    ----------
    bins : int
        Number of equal-width distance bins on [r_min, r_max).
    r_max : float
        Largest distance [length]; must be <= min(box) / 2 at ``compute``.
    r_min : float, optional
        Smallest distance [length], 0 <= r_min < r_max. Default 0.0.
    n_species : int or None, optional
        If given, ``compute`` needs ``labels`` (ints in [0, n_species)) and also
        fills :attr:`partial_rdf`. Default None (total g(r) only). Species can be
        diameter classes, e.g. ``labels = np.digitize(diameters, edges)``.

    Examples
    --------
    >>> import numpy as np
    >>> pts = np.random.default_rng(0).uniform(0, 10, size=(500, 2))
    >>> rdf = RDF(bins=20, r_max=4.0).compute(pts, box=[10.0, 10.0])
    >>> rdf.rdf.shape
    (20,)
    """

    def __init__(self, bins, r_max, r_min=0.0, n_species=None):
        self._bins = check_positive("bins", bins, integer=True)
        self._r_max = check_positive("r_max", r_max)
        r_min = float(r_min)
        if not (0.0 <= r_min < self._r_max):
            raise ValueError(f"r_min must satisfy 0 <= r_min < r_max = {self._r_max}, got {r_min}")
        self._r_min = r_min
        self._n_species = None if n_species is None else check_positive("n_species", n_species, integer=True)
        self._edges = np.linspace(self._r_min, self._r_max, self._bins + 1)
        self._computed = False

    def compute(self, points, box, labels=None, reset=True):
        """Add one frame to the histogram.

        Parameters
        ----------
        points : array_like, shape (N, d)
            Positions [length], d = len(box) in {2, 3}.
        box : array_like, shape (d,)
            Box side lengths [length].
        labels : array_like of int, shape (N,), optional
            Species of each particle; required iff ``n_species`` was given.
            Default None.
        reset : bool, optional
            Discard previously accumulated frames first. Default True.

        Returns
        -------
        self : RDF
        """
        pos, lengths = check_points(points, box)
        n, dim = pos.shape
        if self._r_max > lengths.min() / 2.0:
            raise ValueError(f"r_max = {self._r_max} exceeds half the smallest box side {lengths.min() / 2.0}")
        if (labels is None) != (self._n_species is None):
            raise ValueError("labels must be given if and only if n_species was set in RDF(...)")
        n_species = 1 if self._n_species is None else self._n_species
        if labels is None:
            lab = np.zeros(n, np.int64)
        else:
            lab = np.ascontiguousarray(labels, dtype=np.int64)
            if lab.shape != (n,):
                raise ValueError(f"labels must have shape (N,) = ({n},), got {lab.shape}")
            if lab.min() < 0 or lab.max() >= n_species:
                raise ValueError(f"labels must lie in [0, n_species = {n_species})")
        if reset or not self._computed:
            self._counts = np.zeros((n_species, n_species, self._bins))
            self._ideal = np.zeros((n_species, n_species, self._bins))
            self._total_counts = np.zeros(self._bins)
            self._total_ideal = np.zeros(self._bins)
            self._n_frames = 0
        n_cells, stencil = cell_grid(lengths, self._r_max, n)
        hist = pair_histogram(pos, lengths, lab, n_species, self._r_min, self._r_max,
                               self._bins, n_cells, stencil)
        shell = _shell_volumes(self._edges, dim) / np.prod(lengths)
        n_a = np.bincount(lab, minlength=n_species).astype(np.float64)
        pairs = np.outer(n_a, n_a) - np.diag(n_a)
        self._counts += hist
        self._ideal += pairs[:, :, None] * shell
        self._total_counts += hist.sum(axis=(0, 1))
        self._total_ideal += n * (n - 1.0) * shell
        self._n_frames += 1
        self._computed = True
        return self

    @property
    def bin_edges(self):
        """Distance bin edges [length], shape (bins + 1,)."""
        return self._edges.copy()

    @property
    def bin_centers(self):
        """Distance bin centres [length], shape (bins,)."""
        return 0.5 * (self._edges[1:] + self._edges[:-1])

    @property
    def rdf(self):
        """Total g(r), shape (bins,). NaN where the ideal-gas count is 0 (N = 1)."""
        require_computed(self, "rdf")
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._total_counts / self._total_ideal

    @property
    def partial_rdf(self):
        """Partial g_ab(r), shape (n_species, n_species, bins); symmetric in a, b.

        NaN for species pairs that never had two particles.
        """
        require_computed(self, "partial_rdf")
        if self._n_species is None:
            raise ValueError("partial_rdf needs RDF(..., n_species=...) and labels in compute")
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._counts / self._ideal

    @property
    def n_frames(self):
        """Number of frames accumulated."""
        require_computed(self, "n_frames")
        return self._n_frames


class StaticStructureFactor:
    """Static structure factor S(k) by direct summation over allowed wave vectors.

    For every wave vector of the periodic box, k = 2 pi n / L (componentwise,
    n integer; k = 2 pi / wavelength) with 0 < |k| <= k_max,

        S(k) = |sum_j exp(i k . r_j)|^2 / N,

    then averaged over the vectors in each |k| bin and over frames. Since
    S(k) = S(-k) only one vector of each +-k pair is used. S(0) = N (forward
    scattering) is excluded; ideal-gas points give S(k) = 1 on average and a
    perfect crystal gives S = N at its Bragg vectors. The cost is N per vector,
    and the number of vectors grows like (k_max L / 2 pi)^d: for large boxes cap
    it with ``max_vectors_per_bin``.

    Parameters
    ----------
    bins : int
        Number of equal-width |k| bins on (0, k_max].
    k_max : float
        Largest wave number [1/length].
    max_vectors_per_bin : int or None, optional
        If set, at most this many vectors per bin, drawn once (at the first
        ``compute``) without replacement with ``numpy.random.default_rng(seed)``.
        Default None (all vectors).
    seed : int, optional
        Seed for that subsampling. Default 0.
    """

    def __init__(self, bins, k_max, max_vectors_per_bin=None, seed=0):
        self._bins = check_positive("bins", bins, integer=True)
        self._k_max = check_positive("k_max", k_max)
        self._max_per_bin = (None if max_vectors_per_bin is None
                             else check_positive("max_vectors_per_bin", max_vectors_per_bin, integer=True))
        self._seed = int(seed)
        self._edges = np.linspace(0.0, self._k_max, self._bins + 1)
        self._computed = False

    def _wave_vectors(self, lengths):
        nvec, kmag = half_space_wave_vectors(lengths, self._k_max)
        which = np.minimum(np.searchsorted(self._edges, kmag, side="left") - 1, self._bins - 1)
        if self._max_per_bin is not None:
            rng = np.random.default_rng(self._seed)
            chosen = []
            for b in range(self._bins):
                members = np.flatnonzero(which == b)
                if members.size > self._max_per_bin:
                    members = np.sort(rng.choice(members, self._max_per_bin, replace=False))
                chosen.append(members)
            sel = np.concatenate(chosen)
            nvec, kmag, which = nvec[sel], kmag[sel], which[sel]
        return np.ascontiguousarray(nvec), kmag, which

    def compute(self, points, box, reset=True):
        """Add one frame.

        Parameters
        ----------
        points : array_like, shape (N, d)
            Positions [length], d = len(box) in {2, 3}.
        box : array_like, shape (d,)
            Box side lengths [length]; must stay the same while accumulating.
        reset : bool, optional
            Discard previously accumulated frames first. Default True.

        Returns
        -------
        self : StaticStructureFactor
        """
        pos, lengths = check_points(points, box)
        if reset or not self._computed:
            self._box = lengths
            self._nvec, kmag, self._which = self._wave_vectors(lengths)
            self._n_vectors = np.bincount(self._which, minlength=self._bins)
            self._k_sum = np.bincount(self._which, weights=kmag, minlength=self._bins)
            self._s_sum = np.zeros(self._bins)
            self._n_frames = 0
        elif not np.array_equal(lengths, self._box):
            raise ValueError("box changed while accumulating (reset=False); use reset=True")
        rho_re, rho_im = density_modes(pos, lengths, self._nvec)
        s = (rho_re**2 + rho_im**2) / pos.shape[0]
        self._s_sum += np.bincount(self._which, weights=s, minlength=self._bins)
        self._n_frames += 1
        self._computed = True
        return self

    @property
    def bin_edges(self):
        """|k| bin edges [1/length], shape (bins + 1,)."""
        return self._edges.copy()

    @property
    def bin_centers(self):
        """|k| bin centres [1/length], shape (bins,)."""
        return 0.5 * (self._edges[1:] + self._edges[:-1])

    @property
    def k_mean(self):
        """Mean |k| of the vectors used in each bin [1/length], shape (bins,); NaN if empty."""
        require_computed(self, "k_mean")
        with np.errstate(invalid="ignore"):
            return self._k_sum / self._n_vectors

    @property
    def n_vectors(self):
        """Number of wave vectors (one per +-k pair) used in each bin, shape (bins,)."""
        require_computed(self, "n_vectors")
        return self._n_vectors.copy()

    @property
    def S_k(self):
        """S(k) per bin, shape (bins,) [dimensionless]; NaN for bins without vectors."""
        require_computed(self, "S_k")
        with np.errstate(invalid="ignore"):
            return self._s_sum / (self._n_vectors * self._n_frames)

    @property
    def n_frames(self):
        """Number of frames accumulated."""
        require_computed(self, "n_frames")
        return self._n_frames


@dataclass(frozen=True)
class DensityFluctuation:
    """Coarse-grained density fluctuation (see :func:`local_density_fluctuation`).

    Attributes
    ----------
    cells_per_side : tuple of int
        Grid cells along each box side.
    cell_volume : float
        Volume (area in 2D) of one cell [length^d].
    mean_count : float
        Mean number of particles per cell.
    variance : float
        Variance of the per-cell count (over cells).
    index_of_dispersion : float
        variance / mean_count: ~1 for an ideal gas (1 - 1/n_cells exactly on
        average), >> 1 when dense and empty regions coexist.
    """

    cells_per_side: tuple
    cell_volume: float
    mean_count: float
    variance: float
    index_of_dispersion: float


def local_density_fluctuation(points, box, cell_size=4.0):
    """Phase-separation measure: dispersion of particle counts on a coarse grid.

    The box is cut into ``round(L / cell_size)`` (at least 1) cells per side; the
    result is the variance of the per-cell counts divided by their mean (the
    index of dispersion, equal to V_cell times the variance of the local density
    divided by the mean density). For uniform (Poisson-like) points it is ~1;
    for a dense phase coexisting with a gas it grows with the cell size.

    Parameters
    ----------
    points : array_like, shape (N, d)
        Positions [length].
    box : array_like, shape (d,)
        Box side lengths [length], d in {2, 3}.
    cell_size : float, optional
        Target cell side [length]. Default 4.0 (about 10 particles per cell at
        the course density 0.64 in 2D).

    Returns
    -------
    DensityFluctuation
    """
    pos, lengths = check_points(points, box)
    cell_size = check_positive("cell_size", cell_size)
    n_cells = np.maximum(np.rint(lengths / cell_size).astype(np.int64), 1)
    idx = np.minimum((pos / lengths * n_cells).astype(np.int64), n_cells - 1)
    flat = np.ravel_multi_index(tuple(idx.T), tuple(n_cells))
    counts = np.bincount(flat, minlength=int(np.prod(n_cells))).astype(np.float64)
    mean, var = counts.mean(), counts.var()
    return DensityFluctuation(
        cells_per_side=tuple(int(c) for c in n_cells),
        cell_volume=float(np.prod(lengths / n_cells)),
        mean_count=float(mean),
        variance=float(var),
        index_of_dispersion=float(var / mean),
    )


class ClusterAnalysis:
    """Clusters of particles connected by distances below a cutoff (periodic).

    Two particles are bonded if their minimum-image distance is < ``cutoff``;
    clusters are the connected components (union-find). The largest-cluster
    fraction is a phase-separation measure: close to 1 when a dense phase has
    condensed, small for a homogeneous gas.

    Parameters
    ----------
    cutoff : float
        Bond distance [length]; must be <= min(box) / 2 at ``compute``. For
        unit disks a value near the first minimum of g(r), e.g. 1.5, is usual.
    """

    def __init__(self, cutoff):
        self._cutoff = check_positive("cutoff", cutoff)
        self._computed = False

    def compute(self, points, box):
        """Find the clusters of one frame.

        Parameters
        ----------
        points : array_like, shape (N, d)
            Positions [length].
        box : array_like, shape (d,)
            Box side lengths [length], d in {2, 3}.

        Returns
        -------
        self : ClusterAnalysis
        """
        pos, lengths = check_points(points, box)
        if self._cutoff > lengths.min() / 2.0:
            raise ValueError(f"cutoff = {self._cutoff} exceeds half the smallest box side {lengths.min() / 2.0}")
        n_cells, stencil = cell_grid(lengths, self._cutoff, pos.shape[0])
        roots = cluster_roots(pos, lengths, self._cutoff, n_cells, stencil)
        _, inverse, sizes = np.unique(roots, return_inverse=True, return_counts=True)
        rank = np.argsort(-sizes, kind="stable")  # cluster 0 is the largest
        relabel = np.empty_like(rank)
        relabel[rank] = np.arange(rank.size)
        self._labels = relabel[inverse]
        self._sizes = sizes[rank]
        self._computed = True
        return self

    @property
    def labels(self):
        """Cluster index of each particle, shape (N,); 0 is the largest cluster."""
        require_computed(self, "labels")
        return self._labels.copy()

    @property
    def sizes(self):
        """Cluster sizes in decreasing order, shape (n_clusters,)."""
        require_computed(self, "sizes")
        return self._sizes.copy()

    @property
    def n_clusters(self):
        """Number of clusters (isolated particles count as clusters of size 1)."""
        require_computed(self, "n_clusters")
        return int(self._sizes.size)

    @property
    def largest_fraction(self):
        """Fraction of particles in the largest cluster, in (0, 1]."""
        require_computed(self, "largest_fraction")
        return float(self._sizes[0] / self._sizes.sum())
