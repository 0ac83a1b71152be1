"""Numba kernels for the structure analysis (private).

A cell list with its neighbour-cell stencil, the pair-distance histogram behind
g(r), union-find clustering, and the density modes rho_k behind S(k). Kernels
only do arithmetic on contiguous arrays; checks live in the public wrappers of
:mod:`simlib.analysis.structure`.
"""

import itertools

import numpy as np
from numba import njit


def cell_grid(lengths, r_cut, n_points):
    """Cells per dimension (int64 (d,)) and the neighbour-cell stencil (int64 (s, d)).

    Cells have side >= ``r_cut``. A dimension with fewer than 3 cells is not split
    at all (1 cell, stencil offset 0 only), so every neighbour cell in the stencil
    is distinct and every pair closer than ``r_cut`` is visited exactly once per
    ordered pair. The total number of cells is capped near ``2 * n_points``.
    """
    n_cells = np.floor(lengths / r_cut).astype(np.int64)
    cap = max(27, 2 * n_points)
    while np.prod(n_cells) > cap:
        n_cells = np.maximum(n_cells * 3 // 4, 1)
    n_cells[n_cells < 3] = 1
    offsets = [(-1, 0, 1) if n >= 3 else (0,) for n in n_cells]
    stencil = np.array(list(itertools.product(*offsets)), dtype=np.int64)
    return n_cells, stencil


@njit(cache=True)
def build_cells(pos, lengths, n_cells):
    """Sort particles into cells (counting sort).

    Returns ``start`` (n_cells_total + 1,) and ``order`` (N,): the particles of
    cell ``c`` are ``order[start[c]:start[c + 1]]``. Cell index is row-major over
    the per-dimension cell indices. ``pos`` must be wrapped into [0, L).
    """
    n, d = pos.shape
    total = 1
    for a in range(d):
        total *= n_cells[a]
    cell = np.empty(n, np.int64)
    start = np.zeros(total + 1, np.int64)
    for i in range(n):
        c = 0
        for a in range(d):
            ia = int(pos[i, a] / lengths[a] * n_cells[a])
            if ia >= n_cells[a]:
                ia = n_cells[a] - 1
            c = c * n_cells[a] + ia
        cell[i] = c
        start[c + 1] += 1
    for c in range(total):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        order[fill[cell[i]]] = i
        fill[cell[i]] += 1
    return start, order


@njit(cache=True)
def neighbour_cell(c, shift, n_cells, idx):
    """Linear index of the cell ``c`` shifted by ``shift`` (periodic); ``idx`` is scratch (d,)."""
    d = n_cells.shape[0]
    rem = c
    for a in range(d - 1, -1, -1):
        idx[a] = rem % n_cells[a]
        rem //= n_cells[a]
    out = 0
    for a in range(d):
        ja = (idx[a] + shift[a] + n_cells[a]) % n_cells[a]
        out = out * n_cells[a] + ja
    return out


@njit(cache=True)
def pair_histogram(pos, lengths, labels, n_species, r_min, r_max, bins, n_cells, stencil):
    """Counts of ordered pairs (i != j) by species pair and distance bin."""
    n, d = pos.shape
    hist = np.zeros((n_species, n_species, bins), np.int64)
    start, order = build_cells(pos, lengths, n_cells)
    inv_len = 1.0 / lengths
    idx = np.empty(d, np.int64)
    r_min2, r_max2 = r_min * r_min, r_max * r_max
    inv_width = bins / (r_max - r_min)
    for c in range(start.shape[0] - 1):
        for s in range(stencil.shape[0]):
            nc = neighbour_cell(c, stencil[s], n_cells, idx)
            for ii in range(start[c], start[c + 1]):
                i = order[ii]
                for jj in range(start[nc], start[nc + 1]):
                    j = order[jj]
                    if j == i:
                        continue
                    r2 = 0.0
                    for a in range(d):
                        dx = pos[j, a] - pos[i, a]
                        dx -= lengths[a] * np.rint(dx * inv_len[a])
                        r2 += dx * dx
                    if r_min2 <= r2 < r_max2:
                        b = int((np.sqrt(r2) - r_min) * inv_width)
                        if b < bins:
                            hist[labels[i], labels[j], b] += 1
    return hist


def half_space_wave_vectors(lengths, k_max):
    """Integer vectors n (n_k, d) with k = 2 pi n / L, 0 < |k| <= k_max, and |k| (n_k,).

    Only one of each +-k pair is kept: the first nonzero component of n is > 0.
    """
    n_max = np.floor(k_max * lengths / (2.0 * np.pi)).astype(np.int64)
    grids = np.meshgrid(*[np.arange(-m, m + 1) for m in n_max], indexing="ij")
    nvec = np.stack([g.ravel() for g in grids], axis=1)
    first = np.zeros(len(nvec), np.int64)
    for a in range(lengths.size - 1, -1, -1):
        first = np.where(nvec[:, a] != 0, nvec[:, a], first)
    nvec = nvec[first > 0]
    kmag = np.linalg.norm(2.0 * np.pi * nvec / lengths, axis=1)
    keep = kmag <= k_max
    return nvec[keep], kmag[keep]


@njit(cache=True)
def density_modes(pos, lengths, nvec):
    """rho_k = sum_j exp(i k.r_j) for integer vectors ``nvec`` (n_k, d), k = 2 pi n / L.

    Per particle, exp(i 2 pi n x / L) is tabulated for all needed n by repeated
    multiplication, so each wave vector costs d - 1 complex products per particle.
    """
    n, d = pos.shape
    n_k = nvec.shape[0]
    n_max = 0
    for q in range(n_k):
        for a in range(d):
            n_max = max(n_max, abs(nvec[q, a]))
    table = np.empty((d, 2 * n_max + 1), np.complex128)
    rho = np.zeros(n_k, np.complex128)
    for j in range(n):
        for a in range(d):
            w = np.exp(2j * np.pi * pos[j, a] / lengths[a])
            table[a, n_max] = 1.0
            for m in range(1, n_max + 1):
                table[a, n_max + m] = table[a, n_max + m - 1] * w
                table[a, n_max - m] = table[a, n_max + m].conjugate()
        for q in range(n_k):
            phase = table[0, n_max + nvec[q, 0]]
            for a in range(1, d):
                phase *= table[a, n_max + nvec[q, a]]
            rho[q] += phase
    return rho


@njit(cache=True)
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # path halving
        i = parent[i]
    return i


@njit(cache=True)
def cluster_roots(pos, lengths, cutoff, n_cells, stencil):
    """Union-find over pairs closer than ``cutoff``; returns each particle's root."""
    n, d = pos.shape
    parent = np.arange(n)
    start, order = build_cells(pos, lengths, n_cells)
    inv_len = 1.0 / lengths
    idx = np.empty(d, np.int64)
    rc2 = cutoff * cutoff
    for c in range(start.shape[0] - 1):
        for s in range(stencil.shape[0]):
            nc = neighbour_cell(c, stencil[s], n_cells, idx)
            for ii in range(start[c], start[c + 1]):
                i = order[ii]
                for jj in range(start[nc], start[nc + 1]):
                    j = order[jj]
                    if j <= i:
                        continue
                    r2 = 0.0
                    for a in range(d):
                        dx = pos[j, a] - pos[i, a]
                        dx -= lengths[a] * np.rint(dx * inv_len[a])
                        r2 += dx * dx
                    if r2 < rc2:
                        ri, rj = _find(parent, i), _find(parent, j)
                        if ri != rj:
                            parent[max(ri, rj)] = min(ri, rj)
    for i in range(n):
        parent[i] = _find(parent, i)
    return parent
