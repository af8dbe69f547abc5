#!/usr/bin/env python3
"""Reference side of experiments/bench/eigsh.ts: scipy.sparse.linalg.eigsh
(ARPACK) on the matrices the TypeScript benchmark wrote, and numpy's
dense eigh as ground truth for the small ones.

Matrix files in --dir, one per problem, <name>.csr, little-endian:
int32 n, int32 nnz, int32 rowPtr[n + 1], int32 colIdx[nnz],
float64 values[nnz] (the normalized adjacency as mpcl builds it).

Driven over stdin/stdout, one JSON line per message, so that the
benchmark can interleave these runs with its own:
- on start it prints {"versions": {...}};
- "run <name> <k> <tol> <seed>" solves the k largest algebraic
  eigenvalues at tolerance tol (start vector uniform in [-1, 1) from
  numpy's generator with that seed; ncv and maxiter left at scipy's
  defaults) and prints {"seconds", "matvecs", "eigenvalues"
  (descending)} or {"error": "..."};
- "dense <name> <k>" prints {"seconds", "eigenvalues"}: the k largest of
  numpy.linalg.eigh of the dense matrix;
- "quit" or the end of input stops.

Needs numpy and scipy; on Debian: apt-get update && apt-get install -y
python3-scipy, then run with /usr/bin/python3. Exits with status 3 when
one is missing.
"""

import json
import os
import sys
import time


def need(name):
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        sys.stderr.write(
            f"eigsh_ref.py: python module '{name}' is missing; install it "
            "with: apt-get update && apt-get install -y python3-scipy\n"
        )
        sys.exit(3)


np = need("numpy")
scipy = need("scipy")
sparse = need("scipy.sparse")
linalg = need("scipy.sparse.linalg")


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def read_csr(path):
    """The CSR matrix of one .csr file (format in the module docstring)."""
    with open(path, "rb") as f:
        raw = f.read()
    n, nnz = np.frombuffer(raw, dtype="<i4", count=2)
    at = 8
    row_ptr = np.frombuffer(raw, dtype="<i4", count=n + 1, offset=at)
    at += 4 * (n + 1)
    col_idx = np.frombuffer(raw, dtype="<i4", count=nnz, offset=at)
    at += 4 * nnz
    values = np.frombuffer(raw, dtype="<f8", count=nnz, offset=at)
    return sparse.csr_matrix((values, col_idx, row_ptr), shape=(n, n))


def solve(matrix, k, tol, seed):
    """scipy's eigsh, largest algebraic, with a counted matvec."""
    n = matrix.shape[0]
    count = [0]

    def matvec(x):
        count[0] += 1
        return matrix @ x

    op = linalg.LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    start = time.perf_counter()
    values = linalg.eigsh(
        op, k=k, which="LA", tol=tol, v0=v0, return_eigenvectors=False
    )
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "matvecs": count[0],
        "eigenvalues": sorted(values.tolist(), reverse=True),
    }


def dense_top(matrix, k):
    start = time.perf_counter()
    values = np.linalg.eigvalsh(matrix.toarray())
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "eigenvalues": sorted(values.tolist(), reverse=True)[:k],
    }


def main():
    directory = sys.argv[sys.argv.index("--dir") + 1]
    matrices = {}

    def matrix(name):
        if name not in matrices:
            matrices[name] = read_csr(os.path.join(directory, name + ".csr"))
        return matrices[name]

    say(
        {
            "versions": {
                "python": sys.version.split()[0],
                "numpy": np.__version__,
                "scipy": scipy.__version__,
            }
        }
    )
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        try:
            if words[0] == "run":
                name, k, tol, seed = words[1:5]
                say(solve(matrix(name), int(k), float(tol), int(seed)))
            elif words[0] == "dense":
                say(dense_top(matrix(words[1]), int(words[2])))
            else:
                say({"error": f"unknown command {words[0]}"})
        except Exception as err:  # report, keep serving
            say({"error": f"{type(err).__name__}: {err}"})


if __name__ == "__main__":
    main()
