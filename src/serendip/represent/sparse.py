"""``SparseCubes``: many E-t-dt cubes stored sparse (CSR rows of small integers).

A cube of 24 x 16 x 16 = 6,144 cells holds the ``n - 1`` gaps of one file, so a typical
X-ray source (a few hundred events) fills a few percent of its cells: 20,000 simulated
sources have a median of 86 non-zero cells. Dense float32 cubes cost 24 KiB per file
(2.3 GiB per 100,000 files); stored as CSR rows with ``uint16`` counts and ``uint16`` cell
numbers they cost about 4 bytes per non-zero cell plus 8 bytes per file (0.04 GiB per
100,000 simulated files).

Layout (as ``scipy.sparse.csr_array`` of shape ``(n_files, prod(cube_shape))``):

* ``indptr`` (n_files + 1,) int64 - the cells of file ``i`` are ``indptr[i]:indptr[i+1]``;
* ``indices`` (nnz,) uint16 (int32 for cubes of more than 65,536 cells) - flat cell
  number ``(t * e_bins + e) * dt_bins + dt``, increasing within each file;
* ``data`` (nnz,) - counts as ``uint16`` (``uint32`` when a file has more than 65,536
  events) or float32 values in [0, 1] for normalised cubes.

The object behaves like the dense ``(n_files, *cube_shape)`` float32 array where that is
cheap: ``shape``, ``dtype`` (float32, the dense values' type), ``len``, ``cubes[i]`` (one
dense cube), ``cubes[a:b]`` / ``cubes[index]`` (a ``SparseCubes`` of those files),
``np.asarray(cubes)`` (all of them dense; prefer :meth:`dense` per batch of files).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _densify(indptr, indices, data, start, stop, out2):
    """Scatter rows ``start..stop`` into ``out2`` (stop - start, n_cells), zeroed first."""
    for f in range(start, stop):
        row = out2[f - start]
        row[:] = 0.0
        for j in range(indptr[f], indptr[f + 1]):
            row[indices[j]] = data[j]


@dataclass(eq=False)
class SparseCubes:
    """E-t-dt cubes of many files in CSR form; see the module docstring."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    cube_shape: tuple[int, ...]

    def __post_init__(self) -> None:
        self.cube_shape = tuple(int(s) for s in self.cube_shape)
        self.indptr = np.asarray(self.indptr, dtype=np.int64)
        if self.indptr.ndim != 1 or len(self.indptr) < 1 or self.indptr[0] != 0:
            raise ValueError("indptr must be 1-D, start at 0 and have n_files + 1 entries")
        if len(self.data) != self.indptr[-1] or len(self.indices) != self.indptr[-1]:
            raise ValueError(
                f"data ({len(self.data)}) and indices ({len(self.indices)}) must have "
                f"indptr[-1] = {int(self.indptr[-1])} entries"
            )

    # ------------------------------------------------------------ array-like
    @property
    def n_files(self) -> int:
        """Number of files (cubes)."""
        return len(self.indptr) - 1

    @property
    def n_cells(self) -> int:
        """Cells per cube (product of the per-file shape)."""
        return int(np.prod(self.cube_shape))

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the dense equivalent, (n_files, *cube_shape)."""
        return (self.n_files, *self.cube_shape)

    @property
    def ndim(self) -> int:
        """Number of axes of the dense array (1 + per-file axes)."""
        return 1 + len(self.cube_shape)

    @property
    def dtype(self) -> np.dtype:
        """Type of the dense values (float32, as :func:`~serendip.represent.etdt_cubes` with ``dense=True``)."""
        return np.dtype(np.float32)

    @property
    def nnz(self) -> int:
        """Number of non-zero cells stored."""
        return int(self.indptr[-1])

    @property
    def nbytes(self) -> int:
        """Bytes held by the three arrays."""
        return int(self.data.nbytes + self.indices.nbytes + self.indptr.nbytes)

    def __len__(self) -> int:
        return self.n_files

    def __getitem__(self, key):
        """``cubes[i]``: file ``i``'s dense cube (float32); slices / index arrays: a SparseCubes.

        A tuple key (``cubes[i, :, 0]``) indexes the dense cube(s) of its first element.
        """
        if isinstance(key, tuple):
            return (
                self[key[0]][key[1:]]
                if isinstance(key[0], (int, np.integer))
                else (self.dense_rows(key[0])[(slice(None), *key[1:])])
            )
        if isinstance(key, (int, np.integer)):
            i = int(key)
            if i < 0:
                i += self.n_files
            if not 0 <= i < self.n_files:
                raise IndexError(f"file {key} out of range for {self.n_files} files")
            return self.dense(i, i + 1)[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(self.n_files)
            if step == 1:
                return self._slice(start, max(start, stop))
            key = np.arange(start, stop, step)
        return self.select(key)

    def _slice(self, start: int, stop: int) -> SparseCubes:
        a, b = self.indptr[start], self.indptr[stop]
        return SparseCubes(
            self.data[a:b], self.indices[a:b], self.indptr[start : stop + 1] - a, self.cube_shape
        )

    def select(self, index) -> SparseCubes:
        """The files at ``index`` (integer positions or a boolean mask), in that order."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        index = index.astype(np.int64)
        index = np.where(index < 0, index + self.n_files, index)
        if index.size and (index.min() < 0 or index.max() >= self.n_files):
            raise IndexError(f"file index out of range for {self.n_files} files")
        counts = np.diff(self.indptr)[index]
        indptr = np.zeros(len(index) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        pos = np.repeat(self.indptr[index] - indptr[:-1], counts) + np.arange(indptr[-1])
        return SparseCubes(self.data[pos], self.indices[pos], indptr, self.cube_shape)

    # --------------------------------------------------------------- dense
    def dense(self, start: int = 0, stop: int | None = None, out: np.ndarray | None = None):
        """Files ``start:stop`` as a dense (stop - start, *cube_shape) float32 array.

        ``out``: an optional C-contiguous float32 array of that shape to fill (reused
        between batches).
        """
        stop = self.n_files if stop is None else int(stop)
        shape = (stop - start, *self.cube_shape)
        if out is None:
            out = np.empty(shape, dtype=np.float32)
        elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
            raise ValueError(f"out must be C-contiguous float32 of shape {shape}")
        _densify(self.indptr, self.indices, self.data, int(start), stop, out.reshape(len(out), -1))
        return out

    def dense_rows(self, index) -> np.ndarray:
        """Dense cubes of the files at ``index`` (slice, positions or mask)."""
        sub = self[index] if isinstance(index, slice) else self.select(index)
        return sub.dense()

    def batches(self, batch_files: int) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(start, stop, dense cubes)`` over consecutive batches of files (one buffer reused)."""
        buf = np.empty((min(batch_files, self.n_files), *self.cube_shape), dtype=np.float32)
        for a in range(0, self.n_files, batch_files):
            b = min(a + batch_files, self.n_files)
            yield a, b, self.dense(a, b, out=buf[: b - a])

    def __array__(self, dtype=None, copy=None):
        d = self.dense()
        return d if dtype is None else d.astype(dtype, copy=False)

    def toarray(self) -> np.ndarray:
        """All cubes dense, (n_files, *cube_shape) float32 (24 KiB per file)."""
        return self.dense()

    def to_scipy(self):
        """A ``scipy.sparse.csr_array`` (n_files, n_cells) with float32 values."""
        from scipy import sparse

        return sparse.csr_array(
            (self.data.astype(np.float32), self.indices.astype(np.int32), self.indptr),
            shape=(self.n_files, self.n_cells),
        )

    def any(self) -> bool:
        """True when some cube has a non-zero cell."""
        return bool(np.any(self.data))

    def sum(self, axis=None):
        """Sum of all values (``axis=None``) or per file (``axis`` covering the cube axes)."""
        if axis is None:
            return float(self.data.sum(dtype=np.float64))
        return np.asarray(self).sum(axis=axis)

    # ------------------------------------------------------------- joining
    @classmethod
    def concatenate(cls, parts: list[SparseCubes]) -> SparseCubes:
        """Files of several ``SparseCubes`` (same cube shape) one after another."""
        if not parts:
            raise ValueError("nothing to concatenate")
        shape = parts[0].cube_shape
        if any(p.cube_shape != shape for p in parts):
            raise ValueError("cube shapes differ")
        dt = np.result_type(*[p.data.dtype for p in parts])
        it = np.result_type(*[p.indices.dtype for p in parts])
        indptr = [np.zeros(1, np.int64)]
        total = 0
        for p in parts:
            indptr.append(p.indptr[1:] + total)
            total += p.nnz
        return cls(
            np.concatenate([p.data.astype(dt, copy=False) for p in parts]),
            np.concatenate([p.indices.astype(it, copy=False) for p in parts]),
            np.concatenate(indptr),
            shape,
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store (``.npz``): data, indices, indptr and cube_shape."""
        return {
            "data": self.data,
            "indices": self.indices,
            "indptr": self.indptr,
            "cube_shape": np.asarray(self.cube_shape, dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays) -> SparseCubes:
        """Inverse of :meth:`to_arrays` (any mapping with those keys, e.g. an open ``.npz``)."""
        return cls(
            np.asarray(arrays["data"]),
            np.asarray(arrays["indices"]),
            np.asarray(arrays["indptr"]),
            tuple(int(s) for s in np.asarray(arrays["cube_shape"])),
        )

    @classmethod
    def from_dense(cls, cubes: np.ndarray) -> SparseCubes:
        """Sparse form of dense (n_files, ...) cubes (integer counts stay integers)."""
        cubes = np.asarray(cubes)
        rows = cubes.reshape(len(cubes), -1)
        nz = rows != 0
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(nz.sum(axis=1), out=indptr[1:])
        r, c = np.nonzero(nz)
        vals = rows[r, c]
        if np.all(vals == np.round(vals)) and (vals.size == 0 or (vals.min() >= 0)):
            vmax = vals.max() if vals.size else 0
            vals = vals.astype(np.uint16 if vmax <= np.iinfo(np.uint16).max else np.uint32)
        else:
            vals = vals.astype(np.float32)
        idx_t = np.uint16 if rows.shape[1] <= 65536 else np.int32
        return cls(vals, c.astype(idx_t), indptr, cubes.shape[1:])


def save_array(fh, data) -> None:
    """Write a dense array (``.npy`` format) or a :class:`SparseCubes` (``.npz``) to ``fh``."""
    if isinstance(data, SparseCubes):
        np.savez(fh, **data.to_arrays())
    else:
        np.save(fh, np.asarray(data), allow_pickle=False)


def load_array(path) -> np.ndarray | SparseCubes:
    """Read what :func:`save_array` wrote (whatever the file's extension)."""
    with open(path, "rb") as fh:
        z = np.load(fh, allow_pickle=False)
        if isinstance(z, np.ndarray):
            return z
        with z:
            return SparseCubes.from_arrays(z)


def as_dense_batches(X, batch_files: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, rows)`` over batches of a dense array or a :class:`SparseCubes`."""
    if isinstance(X, SparseCubes):
        yield from X.batches(batch_files)
        return
    for a in range(0, len(X), batch_files):
        yield a, min(a + batch_files, len(X)), X[a : a + batch_files]
