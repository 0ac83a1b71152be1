"""Tests for simlib.analysis.structure (g(r), S(k), phase-separation measures)."""

import itertools

import numpy as np
import pytest

from simlib.analysis import (
    RDF,
    ClusterAnalysis,
    NotComputedError,
    StaticStructureFactor,
    local_density_fluctuation,
)


def lattice(n, spacing, dim):
    """Simple square (2D) or cubic (3D) lattice of n^dim sites, box side n * spacing."""
    sites = np.array(list(itertools.product(range(n), repeat=dim)), dtype=np.float64)
    return (sites + 0.5) * spacing, np.full(dim, n * spacing)


def brute_force_rdf(pos, box, edges):
    """Reference g(r): all ordered pairs, minimum image, ideal-gas N(N-1)/V normalisation."""
    n, dim = pos.shape
    dr = pos[:, None, :] - pos[None, :, :]
    dr -= box * np.rint(dr / box)
    r = np.sqrt((dr**2).sum(-1))[~np.eye(n, dtype=bool)]
    counts, _ = np.histogram(r, bins=edges)
    shell = np.pi * np.diff(edges**2) if dim == 2 else 4 / 3 * np.pi * np.diff(edges**3)
    return counts / (n * (n - 1) / np.prod(box) * shell)


def brute_force_sk(pos, box, k_max, edges):
    """Reference S(k): loop over all n in the full space (both +-k), bin |k|."""
    dim = len(box)
    n_max = np.floor(k_max * box / (2 * np.pi)).astype(int)
    sums, counts = np.zeros(len(edges) - 1), np.zeros(len(edges) - 1)
    for nvec in itertools.product(*[range(-m, m + 1) for m in n_max]):
        k = 2 * np.pi * np.array(nvec) / box
        kk = np.linalg.norm(k)
        if kk == 0 or kk > k_max:
            continue
        b = min(np.searchsorted(edges, kk) - 1, len(edges) - 2)
        sums[b] += np.abs(np.exp(1j * pos @ k).sum()) ** 2 / len(pos)
        counts[b] += 1
    with np.errstate(invalid="ignore"):
        return sums / counts


@pytest.mark.parametrize("dim, box_side, r_max", [(2, 12.0, 5.9), (2, 12.0, 2.5), (3, 7.0, 3.4), (3, 9.0, 1.5)])
def test_rdf_matches_brute_force(dim, box_side, r_max):
    # r_max close to L/2 uses a single cell per side, small r_max a real cell list
    rng = np.random.default_rng(dim)
    box = np.full(dim, box_side) * (1.0 + 0.1 * np.arange(dim))  # orthorhombic
    pos = rng.uniform(-box, 2 * box, size=(300, dim))  # wrapping is part of the test
    res = RDF(bins=40, r_max=r_max, r_min=0.3).compute(pos, box)
    np.testing.assert_allclose(res.rdf, brute_force_rdf(np.mod(pos, box), box, res.bin_edges), rtol=1e-12)


@pytest.mark.parametrize("dim, n, box_side", [(2, 2000, 30.0), (3, 2000, 12.0)])
def test_ideal_gas_rdf_is_one(dim, n, box_side):
    rng = np.random.default_rng(7)
    box = np.full(dim, box_side)
    res = RDF(bins=25, r_max=5.0, r_min=1.0)
    for frame in range(4):
        res.compute(rng.uniform(0, box_side, size=(n, dim)), box, reset=frame == 0)
    assert res.n_frames == 4
    # Each bin holds ~expected ordered pairs (two per unordered pair), so its
    # relative noise is about sqrt(2 / expected); allow 5 of those per bin.
    shell = np.diff(res.bin_edges**dim) * (np.pi if dim == 2 else 4 * np.pi / 3)
    expected = 4 * n * (n - 1) / np.prod(box) * shell
    assert np.all(np.abs(res.rdf - 1.0) < 5 * np.sqrt(2 / expected))
    assert abs(res.rdf.mean() - 1.0) < 5 * np.sqrt(2 / expected.sum())


@pytest.mark.parametrize("dim, n, coordination", [(2, 10, 4), (3, 6, 6)])
def test_lattice_rdf_first_peak(dim, n, coordination):
    spacing = 1.2
    pos, box = lattice(n, spacing, dim)
    # r_max just below L/2 so that r = spacing is not on a bin edge
    res = RDF(bins=200, r_max=n * spacing / 2 - 0.05).compute(pos, box)
    peak = np.argmax(res.rdf)
    width = res.bin_edges[1] - res.bin_edges[0]
    assert abs(res.bin_centers[peak] - spacing) <= width / 2
    assert np.all(res.rdf[res.bin_centers < spacing - width] == 0.0)
    # the peak bin holds exactly `coordination` neighbours per particle
    n_sites = len(pos)
    shell = res.bin_edges[peak + 1] ** dim - res.bin_edges[peak] ** dim
    shell *= np.pi if dim == 2 else 4 * np.pi / 3
    assert res.rdf[peak] == pytest.approx(coordination * np.prod(box) / ((n_sites - 1) * shell), rel=1e-12)


def test_rdf_matches_freud():
    freud = pytest.importorskip("freud")
    rng = np.random.default_rng(3)
    side, n = 20.0, 300
    fbox = freud.box.Box.from_box([side, side])
    ours = RDF(bins=50, r_max=6.0)
    # freud's 'finite_size' mode uses our N(N - 1) normalisation ('exact' uses N^2)
    ref = freud.density.RDF(bins=50, r_max=6.0, normalization_mode="finite_size")
    for frame in range(3):
        pos = rng.uniform(0, side, size=(n, 2))
        ours.compute(pos, [side, side], reset=frame == 0)
        ref.compute((fbox, np.c_[pos - side / 2, np.zeros(n)]), reset=frame == 0)
    np.testing.assert_allclose(ours.bin_centers, ref.bin_centers, atol=1e-6)
    # freud bins single-precision distances: allow two pairs per bin to land in
    # a neighbouring bin (4 ordered-pair counts). A N^2 vs N(N - 1) mix-up
    # would shift the outer bins by ~10 counts.
    ideal_pairs = 3 * n * (n - 1) / side**2 * np.pi * np.diff(ours.bin_edges**2)
    assert np.all(np.abs(ours.rdf - ref.rdf) * ideal_pairs <= 4.0)


def test_partial_rdf_sums_to_total():
    rng = np.random.default_rng(5)
    box = np.array([15.0, 15.0])
    pos = rng.uniform(0, 15.0, size=(600, 2))
    labels = (rng.uniform(size=600) < 0.3).astype(int)
    res = RDF(bins=30, r_max=6.0, n_species=2).compute(pos, box, labels=labels)
    n_a = np.bincount(labels)
    pairs = np.outer(n_a, n_a) - np.diag(n_a)
    total = np.einsum("ab,abr->r", pairs, res.partial_rdf) / (600 * 599)
    np.testing.assert_allclose(total, res.rdf, rtol=1e-12)
    np.testing.assert_allclose(res.partial_rdf[0, 1], res.partial_rdf[1, 0], rtol=1e-12)
    assert abs(np.nanmean(res.partial_rdf) - 1.0) < 0.05  # ideal gas, ~1 % noise


@pytest.mark.parametrize("dim, n", [(2, 8), (3, 4)])
def test_lattice_bragg_peak(dim, n):
    spacing = 1.25
    pos, box = lattice(n, spacing, dim)
    k_bragg = 2 * np.pi / spacing  # next reciprocal-lattice |k| is sqrt(2) k_bragg > k_max
    # bins of width 0.026 are narrower than the gap to the next allowed |k|
    # (|n|^2 = n^2 + 1); n^2 is a sum of squares only as n^2 + 0 (+ 0)
    res = StaticStructureFactor(bins=250, k_max=6.5).compute(pos + 0.3, box)
    b = np.searchsorted(res.bin_edges, k_bragg) - 1
    assert res.n_vectors[b] == dim  # (n, 0), (0, n) [, (0, 0, n)]: one of each +-k
    assert res.k_mean[b] == pytest.approx(k_bragg, rel=1e-12)
    assert res.S_k[b] == pytest.approx(len(pos), rel=1e-9)
    others = np.isfinite(res.S_k) & (np.arange(250) != b)
    assert np.all(res.S_k[others] < 1e-9)  # no other reciprocal-lattice vector below k_max


@pytest.mark.parametrize("dim, side", [(2, 9.0), (3, 4.5)])
def test_structure_factor_matches_brute_force(dim, side):
    rng = np.random.default_rng(10 + dim)
    box = side * (1.0 + 0.2 * np.arange(dim))
    pos = rng.uniform(0, 1, size=(60, dim)) * box
    res = StaticStructureFactor(bins=12, k_max=6.0).compute(pos, box)
    np.testing.assert_allclose(res.S_k, brute_force_sk(pos, box, 6.0, res.bin_edges), rtol=1e-10)


@pytest.mark.parametrize("dim", [2, 3])
def test_density_modes_kernel_at_large_wave_index(dim):
    # the per-particle phase tables are built by recurrences: check them far out
    from simlib.analysis._kernels import density_modes

    rng = np.random.default_rng(dim)
    box = np.full(dim, 400.0)
    pos = rng.uniform(0, 400.0, size=(50, dim))
    nvec = rng.integers(-640, 641, size=(30, dim))
    nvec[0] = 640
    re, im = density_modes(pos, box, nvec)
    ref = np.exp(2j * np.pi * pos @ (nvec / box).T).sum(axis=0)
    # the reference phases themselves lose ~|k.r| * 1e-16 ~ 1e-12
    np.testing.assert_allclose(re + 1j * im, ref, rtol=0, atol=1e-9)


def test_ideal_gas_structure_factor_is_one():
    rng = np.random.default_rng(8)
    side = 20.0
    res = StaticStructureFactor(bins=10, k_max=8.0)
    for frame in range(4):
        res.compute(rng.uniform(0, side, size=(500, 2)), [side, side], reset=frame == 0)
    # each vector's |rho_k|^2 / N is exponential with mean 1: ~4000 samples
    # overall (1.6 % noise), a few hundred per bin (<~10 %)
    weights = res.n_vectors * res.n_frames
    assert abs(np.nansum(res.S_k * weights) / weights.sum() - 1.0) < 0.05
    assert np.all(np.abs(res.S_k[1:] - 1.0) < 5 / np.sqrt(weights[1:]))


def test_structure_factor_subsampling():
    rng = np.random.default_rng(9)
    pos = rng.uniform(0, 30.0, size=(200, 2))
    full = StaticStructureFactor(bins=5, k_max=4.0).compute(pos, [30.0, 30.0])
    sub = StaticStructureFactor(bins=5, k_max=4.0, max_vectors_per_bin=20, seed=1).compute(pos, [30.0, 30.0])
    assert np.all(sub.n_vectors == np.minimum(full.n_vectors, 20))
    with pytest.raises(ValueError, match="box changed"):
        sub.compute(pos, [31.0, 30.0], reset=False)


def test_phase_separation_measures():
    rng = np.random.default_rng(4)
    side, n = 40.0, 1024
    uniform = rng.uniform(0, side, size=(n, 2))
    dense, _ = lattice(32, 0.9, 2)  # 1024 sites in a 28.8 x 28.8 patch, spacing 0.9
    dense = dense * [1.0, 0.69]  # squeeze into y < 20: one half of the box
    fluct_u = local_density_fluctuation(uniform, [side, side], cell_size=4.0)
    fluct_d = local_density_fluctuation(dense, [side, side], cell_size=4.0)
    assert fluct_u.cells_per_side == (10, 10) and fluct_u.mean_count == n / 100
    # ideal gas: variance/mean = 1 - 1/100 on average, sampling noise ~ sqrt(2/100)
    assert abs(fluct_u.index_of_dispersion - 1.0) < 0.5
    assert fluct_d.index_of_dispersion > 5 * fluct_u.index_of_dispersion
    clusters = ClusterAnalysis(cutoff=1.0)  # ideal gas: 2 neighbours on average
    assert clusters.compute(dense, [side, side]).largest_fraction == 1.0
    assert clusters.compute(uniform, [side, side]).largest_fraction < 0.2


def test_density_fluctuation_exact():
    pos = np.full((10, 2), 1.0)  # all in one of 4 cells
    res = local_density_fluctuation(pos, [8.0, 8.0], cell_size=4.0)
    assert res.mean_count == 2.5 and res.variance == pytest.approx(np.var([10, 0, 0, 0]))
    assert res.index_of_dispersion == pytest.approx(7.5) and res.cell_volume == 16.0


@pytest.mark.parametrize("dim, side, cutoff", [(2, 20.0, 1.0), (3, 8.0, 1.1), (3, 8.0, 3.9)])
def test_clusters_match_connected_components(dim, side, cutoff):
    csgraph = pytest.importorskip("scipy.sparse.csgraph")
    rng = np.random.default_rng(dim)
    box = np.full(dim, side)
    pos = rng.uniform(0, side, size=(400, dim))
    dr = pos[:, None] - pos[None]
    dr -= box * np.rint(dr / box)
    adjacency = (np.sqrt((dr**2).sum(-1)) < cutoff) & ~np.eye(len(pos), dtype=bool)
    n_ref, ref_labels = csgraph.connected_components(adjacency, directed=False)
    res = ClusterAnalysis(cutoff).compute(pos, box)
    assert res.n_clusters == n_ref
    assert sorted(res.sizes.tolist(), reverse=True) == sorted(np.bincount(ref_labels).tolist(), reverse=True)
    # same partition: labels agree up to renaming
    pairs = set(zip(res.labels.tolist(), ref_labels.tolist()))
    assert len(pairs) == n_ref
    assert res.sizes[0] == np.bincount(res.labels).max() == np.sum(res.labels == 0)


def test_cluster_across_periodic_boundary():
    pos = np.array([[0.2, 5.0], [9.9, 5.0], [5.0, 5.0]])
    res = ClusterAnalysis(cutoff=0.5).compute(pos, [10.0, 10.0])
    assert res.n_clusters == 2 and res.sizes.tolist() == [2, 1]
    assert res.labels[0] == res.labels[1] == 0


def test_bad_arguments_and_early_reads():
    with pytest.raises(ValueError, match="r_max"):
        RDF(bins=10, r_max=6.0).compute(np.zeros((5, 2)), [10.0, 10.0])
    with pytest.raises(ValueError, match="r_min"):
        RDF(bins=10, r_max=2.0, r_min=3.0)
    with pytest.raises(ValueError, match="bins"):
        RDF(bins=0, r_max=2.0)
    with pytest.raises(ValueError, match="labels"):
        RDF(bins=10, r_max=2.0).compute(np.zeros((5, 2)), [10.0, 10.0], labels=np.zeros(5, int))
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        RDF(bins=10, r_max=2.0).compute(np.zeros((5, 4)), [10.0, 10.0])
    with pytest.raises(ValueError, match="d = 3"):
        RDF(bins=10, r_max=2.0).compute(np.zeros((5, 3)), [10.0, 10.0])
    with pytest.raises(ValueError, match="k_max"):
        StaticStructureFactor(bins=10, k_max=-1.0)
    with pytest.raises(ValueError, match="cutoff"):
        ClusterAnalysis(cutoff=6.0).compute(np.zeros((5, 2)), [10.0, 10.0])
    with pytest.raises(ValueError, match="cell_size"):
        local_density_fluctuation(np.zeros((5, 2)), [10.0, 10.0], cell_size=0.0)
    with pytest.raises(NotComputedError, match=r"RDF.rdf .*compute"):
        RDF(bins=10, r_max=2.0).rdf
    with pytest.raises(NotComputedError):
        StaticStructureFactor(bins=10, k_max=5.0).S_k
    with pytest.raises(NotComputedError):
        ClusterAnalysis(1.0).largest_fraction
