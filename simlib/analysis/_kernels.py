"""Numba kernels for the structure analysis (private).

A cell list with its neighbour-cell stencil, the pair-distance histogram behind
g(r), union-find clustering, and the density modes rho_k behind S(k). Kernels
only do arithmetic on contiguous arrays; checks live in the public wrappers of
:mod:`simlib.analysis.structure`.
"""

import itertools

import numpy as np
from .._kernels import njit


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


@njit
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


@njit
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


@njit
def gather_rows(x, order):
    """x[order] for a 2D array (contiguous copy), so cell members sit together in memory."""
    out = np.empty((order.shape[0], x.shape[1]), x.dtype)
    for i in range(order.shape[0]):
        for a in range(x.shape[1]):
            out[i, a] = x[order[i], a]
    return out


@njit
def pair_histogram(pos, lengths, labels, n_species, r_min, r_max, bins, n_cells, stencil):
    """Counts of ordered pairs (i != j) by species pair and distance bin."""
    d = pos.shape[1]
    hist = np.zeros((n_species, n_species, bins), np.int64)
    start, order = build_cells(pos, lengths, n_cells)
    ps = gather_rows(pos, order)  # positions in cell order
    lab = labels[order]
    inv_len = 1.0 / lengths
    idx = np.empty(d, np.int64)
    r_min2, r_max2 = r_min * r_min, r_max * r_max
    inv_width = bins / (r_max - r_min)
    for c in range(start.shape[0] - 1):
        for s in range(stencil.shape[0]):
            nc = neighbour_cell(c, stencil[s], n_cells, idx)
            for i in range(start[c], start[c + 1]):
                for j in range(start[nc], start[nc + 1]):
                    if j == i:
                        continue
                    r2 = 0.0
                    for a in range(d):
                        dx = ps[j, a] - ps[i, a]
                        dx -= lengths[a] * np.rint(dx * inv_len[a])
                        r2 += dx * dx
                    if r_min2 <= r2 < r_max2:
                        b = int((np.sqrt(r2) - r_min) * inv_width)
                        if b < bins:
                            hist[lab[i], lab[j], b] += 1
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


@njit
def _phase_table(phi, n_max, s_re, s_im, t_re, t_im):
    """t[m] = exp(i m phi) for 0 <= m <= n_max; ``s_re``, ``s_im`` are scratch (block,).

    Two levels, m = q * block + r and exp(i m phi) = big(q) * small(r), so the
    long fill loop has no chain of dependent products: it vectorises, and
    round-off stays ~1e-15 instead of growing with m.
    """
    block = s_re.shape[0]
    c, s = np.cos(phi), np.sin(phi)
    s_re[0], s_im[0] = 1.0, 0.0
    for r in range(1, block):
        s_re[r] = s_re[r - 1] * c - s_im[r - 1] * s
        s_im[r] = s_re[r - 1] * s + s_im[r - 1] * c
    cb, sb = np.cos(phi * block), np.sin(phi * block)
    b_re, b_im = 1.0, 0.0
    n_full = (n_max + 1) // block
    for q in range(n_full):
        base = q * block
        for r in range(block):
            t_re[base + r] = b_re * s_re[r] - b_im * s_im[r]
            t_im[base + r] = b_re * s_im[r] + b_im * s_re[r]
        b_re, b_im = b_re * cb - b_im * sb, b_re * sb + b_im * cb
    for m in range(n_full * block, n_max + 1):
        r = m - n_full * block
        t_re[m] = b_re * s_re[r] - b_im * s_im[r]
        t_im[m] = b_re * s_im[r] + b_im * s_re[r]


@njit
def density_modes(pos, lengths, nvec):
    """Re and Im of rho_k = sum_j exp(i k.r_j) for integer vectors ``nvec`` (n_k, d).

    k = 2 pi n / L componentwise, d = 2 or 3. Per particle, exp(i 2 pi m x_a / L_a)
    is tabulated for |m| <= max |n_a| (negative m by conjugation), so each wave
    vector then costs d - 1 complex products per particle. Table layout per
    dimension: columns 0..n_max hold m = 0..n_max, columns n_max + 1 + m hold -m.
    """
    n, d = pos.shape
    n_k = nvec.shape[0]
    n_max = 0
    for q in range(n_k):
        for a in range(d):
            n_max = max(n_max, abs(nvec[q, a]))
    t_re = np.empty((d, 2 * n_max + 2))
    t_im = np.empty((d, 2 * n_max + 2))
    neg = n_max + 1  # first column of the negative-m half
    block = int(np.sqrt(n_max + 1.0)) + 1
    s_re, s_im = np.empty(block), np.empty(block)
    col = np.empty((d, n_k), np.int64)
    for q in range(n_k):
        for a in range(d):
            col[a, q] = nvec[q, a] if nvec[q, a] >= 0 else neg - nvec[q, a]
    rho_re = np.zeros(n_k)
    rho_im = np.zeros(n_k)
    for j in range(n):
        for a in range(d):
            phi = 2.0 * np.pi * pos[j, a] / lengths[a]
            _phase_table(phi, n_max, s_re, s_im, t_re[a], t_im[a])
            for m in range(n_max + 1):
                t_re[a, neg + m] = t_re[a, m]
                t_im[a, neg + m] = -t_im[a, m]
        if d == 2:  # written out per dimension: twice as fast as a loop over a
            for q in range(n_k):
                x_re, x_im = t_re[0, col[0, q]], t_im[0, col[0, q]]
                y_re, y_im = t_re[1, col[1, q]], t_im[1, col[1, q]]
                rho_re[q] += x_re * y_re - x_im * y_im
                rho_im[q] += x_re * y_im + x_im * y_re
        else:
            for q in range(n_k):
                x_re, x_im = t_re[0, col[0, q]], t_im[0, col[0, q]]
                y_re, y_im = t_re[1, col[1, q]], t_im[1, col[1, q]]
                xy_re, xy_im = x_re * y_re - x_im * y_im, x_re * y_im + x_im * y_re
                z_re, z_im = t_re[2, col[2, q]], t_im[2, col[2, q]]
                rho_re[q] += xy_re * z_re - xy_im * z_im
                rho_im[q] += xy_re * z_im + xy_im * z_re
    return rho_re, rho_im


@njit
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # path halving
        i = parent[i]
    return i


@njit
def cluster_roots(pos, lengths, cutoff, n_cells, stencil):
    """Union-find over pairs closer than ``cutoff``; returns a cluster id per particle.

    Ids are arbitrary integers, equal exactly for particles in the same cluster.
    """
    n, d = pos.shape
    start, order = build_cells(pos, lengths, n_cells)
    ps = gather_rows(pos, order)  # union-find runs over indices in cell order
    parent = np.arange(n)
    inv_len = 1.0 / lengths
    idx = np.empty(d, np.int64)
    rc2 = cutoff * cutoff
    for c in range(start.shape[0] - 1):
        for s in range(stencil.shape[0]):
            nc = neighbour_cell(c, stencil[s], n_cells, idx)
            for i in range(start[c], start[c + 1]):
                for j in range(start[nc], start[nc + 1]):
                    if j <= i:
                        continue
                    r2 = 0.0
                    for a in range(d):
                        dx = ps[j, a] - ps[i, a]
                        dx -= lengths[a] * np.rint(dx * inv_len[a])
                        r2 += dx * dx
                    if r2 < rc2:
                        ri, rj = _find(parent, i), _find(parent, j)
                        if ri != rj:
                            parent[max(ri, rj)] = min(ri, rj)
    roots = np.empty(n, np.int64)
    for i in range(n):
        roots[order[i]] = _find(parent, i)
    return roots
