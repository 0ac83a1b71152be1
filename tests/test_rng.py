"""Counter-based random numbers (simlib.rng): Threefry-2x64-20 and the derived streams.

Every statistical test uses a fixed seed, so each outcome is deterministic; the
thresholds are chosen so that a correct generator passes with a wide margin and
a wrong transform (e.g. Box-Muller with the wrong angle, a biased mapping to
(0, 1)) fails by many standard errors.
"""

import numpy as np
import pytest
from scipy import stats

from simlib import rng

U64 = np.uint64
MAX64 = 2**64 - 1

# Known-answer vectors of Threefry-2x64-20 from Random123 (kat_vectors):
# (counter c0, c1), (key k0, k1) -> (x0, x1)
KAT = [
    ((0, 0), (0, 0), (0xC2B6E3A8C2C69865, 0x6F81ED42F350084D)),
    ((MAX64, MAX64), (MAX64, MAX64), (0xE02CB7C4D95D277A, 0xD06633D0893B8B68)),
    (
        (0x243F6A8885A308D3, 0x13198A2E03707344),
        (0xA4093822299F31D0, 0x082EFA98EC4E6C89),
        (0x263C7D30BB0F0AF1, 0x56BE8361D3311526),
    ),
]


@pytest.mark.parametrize("ctr, key, expected", KAT)
def test_threefry_known_answer_vectors(ctr, key, expected):
    out = rng.threefry2x64(U64(ctr[0]), U64(ctr[1]), U64(key[0]), U64(key[1]))
    # exact: a block cipher either reproduces the reference bits or it is wrong
    assert (int(out[0]), int(out[1])) == expected


def test_threefry_is_a_permutation_of_the_counter_and_sensitive_to_every_input():
    base = rng.threefry2x64(U64(1), U64(2), U64(3), U64(4))
    for changed in [(0, 2, 3, 4), (1, 3, 3, 4), (1, 2, 2, 4), (1, 2, 3, 5)]:
        other = rng.threefry2x64(*(U64(v) for v in changed))
        assert (int(other[0]), int(other[1])) != (int(base[0]), int(base[1]))


def test_normal_numbers_have_mean_zero_variance_one_and_pass_ks():
    n = 200_000
    g = rng.normal_array(n, seed=12345, stream=rng.STREAM_LANGEVIN)
    assert g.dtype == np.float64 and g.shape == (n,)
    assert np.all(np.isfinite(g))
    # standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032;
    # 5 standard errors is far from flaky yet catches e.g. a sqrt(2) scale error
    assert abs(g.mean()) < 5.0 / np.sqrt(n)
    assert abs(g.var() - 1.0) < 5.0 * np.sqrt(2.0 / n)
    # each member of a Box-Muller pair on its own must be N(0, 1) (a wrong angle,
    # e.g. pi u instead of 2 pi u, makes the sine member one-signed and fails this)
    for part in (g[0::2], g[1::2]):
        assert stats.kstest(part, "norm").pvalue > 1e-3
    # the two members of a pair are uncorrelated (|r| < 5 / sqrt(n/2))
    r = np.corrcoef(g[0::2], g[1::2])[0, 1]
    assert abs(r) < 5.0 / np.sqrt(n / 2)
    # fourth moment 3 (Gaussian tails): SE of <g^4> is sqrt(96/n) = 0.022
    assert abs(np.mean(g**4) - 3.0) < 5.0 * np.sqrt(96.0 / n)


def test_uniform_numbers_lie_in_open_unit_interval_and_pass_ks():
    n = 200_000
    u = rng.uniform_array(n, seed=777, stream=rng.STREAM_METROPOLIS, counter=3)
    assert np.all(u > 0.0) and np.all(u < 1.0)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # mean 1/2 with SE sqrt(1/12/n) = 6.5e-4
    assert abs(u.mean() - 0.5) < 5.0 * np.sqrt(1.0 / 12.0 / n)
    # successive numbers uncorrelated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5.0 / np.sqrt(n)


def test_unit_interval_mapping_smallest_word_is_strictly_positive():
    assert rng.to_unit_open(U64(0)) > 0.0


def test_unit_interval_mapping_largest_word_is_strictly_below_one():
    assert rng.to_unit_open(U64(MAX64)) < 1.0


def test_same_seed_same_bits_different_seed_stream_counter_different():
    a = rng.normal_array((50, 3), seed=42, stream=1, counter=7)
    b = rng.normal_array((50, 3), seed=42, stream=1, counter=7)
    assert np.array_equal(a, b)
    for kwargs in (dict(seed=43, stream=1, counter=7), dict(seed=42, stream=2, counter=7),
                   dict(seed=42, stream=1, counter=8)):
        c = rng.normal_array((50, 3), **kwargs)
        # not a single value in common: the streams are unrelated, not shifted copies
        assert not np.any(np.isin(c, a))
    ua = rng.uniform_array(101, seed=5, stream=3)
    assert np.array_equal(ua, rng.uniform_array(101, seed=5, stream=3))
    assert not np.any(np.isin(rng.uniform_array(101, seed=6, stream=3), ua))


def test_numbers_are_a_pure_function_of_the_counter_not_of_the_array_size():
    # element k of an array uses counter (c0, k // 2): a shorter draw is a prefix
    long = rng.normal_array(11, seed=9, stream=4)
    short = rng.normal_array(5, seed=9, stream=4)
    assert np.array_equal(long[:5], short)
    g0, g1 = rng.normal_pair(9, 4, 0, 2)
    assert (g0, g1) == (long[4], long[5])


@pytest.mark.parametrize("bad", [-1, 2**63, 1.5, True, "3", None])
def test_bad_seed_raises_value_error_naming_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        rng.check_seed(bad)


def test_normal_tails_beyond_the_ziggurat_base_match_the_gaussian():
    # the ziggurat draws |g| > R = 3.44 from its own rejection sampler and the layers'
    # edges from wedge tests: a sampler that restarted instead of retrying lost 6 % of
    # the tail (6 standard errors here); the histogram checks every layer at once
    n = 20_000_000
    g = rng.normal_array(n, seed=2, stream=rng.STREAM_LANGEVIN)
    for t in (1.0, 2.0, 3.0, 3.442619855899, 4.0):
        expected = 2.0 * stats.norm.sf(t) * n
        assert abs((np.abs(g) > t).sum() - expected) < 4.0 * np.sqrt(expected), t
    edges = np.linspace(-4.5, 4.5, 181)
    counts, _ = np.histogram(g, bins=edges)
    expected = np.diff(stats.norm.cdf(edges)) * n
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert stats.chi2.sf(chi2, len(counts) - 1) > 1e-4
