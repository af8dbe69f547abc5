#!/usr/bin/env python3
"""Reference timings for experiments/bench/propagate.ts: the same products
with scipy and PyTorch, on the graph that the TypeScript benchmark wrote.

Reads from --dir: meta.json (nodes, edges, features), rowPtr.bin and
colIdx.bin (int32 CSR by destination, as mpcl's Graph), x.bin and dy.bin
(float32, nodes x features, row-major).

It is driven over stdin/stdout, one JSON line per message, so that the
benchmark can interleave its own runs with these (on a shared machine
the load then weighs on both alike):
- first it prints {"versions": {...}, "cases": [{"impl", "threads",
  "op"}, ...]};
- then, for each line "run <i>" it reads, it times case i once and prints
  {"ms": <float>} or {"error": "<message>"}; "quit" (or end of input)
  ends it.

Operations (forward, and forward+backward with the gradient of the
features only; none of these libraries' sparse products gives the edge
weights' gradient here):
- sum:  out = A x;  backward dx = A^T dy
- mean: out = D^-1 A x (the row-normalised matrix, built once)
- max:  element-wise max over in-edges (torch scatter_reduce "amax";
        numpy gather + maximum.reduceat); empty rows give 0
torch's CSR tensors hold each (row, column) once: for them duplicate
edges are merged into one entry whose weight is the multiplicity, which
is the same matrix.

Needs numpy, scipy and torch; on Debian: apt-get update && apt-get
install -y python3-scipy python3-torch (then run with /usr/bin/python3).
Exits with status 3 when one is missing.
"""

import argparse
import importlib
import json
import os
import sys
import time
import warnings


def need(module):
    try:
        return importlib.import_module(module)
    except ImportError:
        sys.stderr.write(
            f"propagate_ref.py: python module '{module}' is missing. "
            "Install the Debian packages with: apt-get update && "
            "apt-get install -y python3-scipy python3-torch\n"
        )
        sys.exit(3)


# torch calls its CSR tensors and scatter_reduce "beta" on every use
warnings.filterwarnings("ignore", category=UserWarning)

np = need("numpy")
scipy = need("scipy")
scipy_sparse = need("scipy.sparse")
torch = need("torch")


def load(directory):
    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    n, e, d = meta["nodes"], meta["edges"], meta["features"]
    row_ptr = np.fromfile(os.path.join(directory, "rowPtr.bin"), np.int32)
    col_idx = np.fromfile(os.path.join(directory, "colIdx.bin"), np.int32)
    x = np.fromfile(os.path.join(directory, "x.bin"), np.float32)
    dy = np.fromfile(os.path.join(directory, "dy.bin"), np.float32)
    assert row_ptr.shape == (n + 1,) and col_idx.shape == (e,)
    return n, e, d, row_ptr, col_idx, x.reshape(n, d), dy.reshape(n, d)


def build_cases(n, e, d, row_ptr, col_idx, x, dy, thread_counts):
    """(impl, threads, op, fn) for every reference implementation."""
    counts = np.diff(row_ptr)
    dst = np.repeat(np.arange(n, dtype=np.int64), counts)
    ones = np.ones(e, np.float32)
    inv = (1.0 / np.maximum(counts, 1)).astype(np.float32)
    mean_w = inv[dst]
    cases = []

    # scipy: CSR @ dense (single-threaded); the transposes are built once,
    # as mpcl caches its source-ordered CSR
    a = scipy_sparse.csr_matrix((ones, col_idx, row_ptr), shape=(n, n))
    a_t = a.T.tocsr()
    a_mean = scipy_sparse.csr_matrix((mean_w, col_idx, row_ptr), shape=(n, n))
    a_mean_t = a_mean.T.tocsr()
    scipy_impl = "scipy CSR @ dense"
    cases += [
        (scipy_impl, 1, "sum", lambda: a @ x),
        (scipy_impl, 1, "sum+bwd", lambda: (a @ x, a_t @ dy)),
        (scipy_impl, 1, "mean", lambda: a_mean @ x),
        (scipy_impl, 1, "mean+bwd", lambda: (a_mean @ x, a_mean_t @ dy)),
    ]

    # numpy max: gather the messages, reduce each row's run
    starts = row_ptr[:-1][counts > 0]
    nonempty = np.nonzero(counts > 0)[0]

    def numpy_max():
        out = np.zeros((n, d), np.float32)
        out[nonempty] = np.maximum.reduceat(x[col_idx], starts, axis=0)
        return out

    cases.append(("numpy gather + maximum.reduceat", 1, "max", numpy_max))

    # torch: CSR tensor product, autograd for the backward
    xt = torch.from_numpy(x)
    dyt = torch.from_numpy(dy)

    # NOTE: torch's CSR tensors need distinct columns within a row
    def torch_csr(m):
        m = m.copy()
        m.sum_duplicates()
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data.astype(np.float32)),
            (n, n),
        )

    a_csr = torch_csr(a)
    a_mean_csr = torch_csr(a_mean)
    src = torch.from_numpy(col_idx.astype(np.int64))
    dst_t = torch.from_numpy(dst)
    index = dst_t.unsqueeze(1).expand(e, d)

    def forward(fn):
        def run():
            with torch.no_grad():
                return fn(xt)
        return run

    def backward(fn):
        def run():
            xg = xt.detach().requires_grad_(True)
            fn(xg).backward(dyt)
            return xg.grad
        return run

    def index_add(v):
        return torch.zeros(n, d).index_add(0, dst_t, v[src])

    def scatter_max(v):
        return torch.zeros(n, d).scatter_reduce(
            0, index, v[src], reduce="amax", include_self=False)

    torch_cases = [
        ("torch sparse.mm CSR", "sum", lambda v: torch.sparse.mm(a_csr, v)),
        ("torch sparse.mm CSR", "mean",
         lambda v: torch.sparse.mm(a_mean_csr, v)),
        ("torch index_add (gather + scatter)", "sum", index_add),
        ("torch scatter_reduce amax", "max", scatter_max),
    ]
    for threads in thread_counts:
        for impl, op, fn in torch_cases:
            cases.append((impl, threads, op, forward(fn)))
            cases.append((impl, threads, f"{op}+bwd", backward(fn)))
    return cases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]

    cases = build_cases(*load(args.dir), thread_counts)
    versions = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
    }
    listing = [{"impl": c[0], "threads": c[1], "op": c[2]} for c in cases]
    print(json.dumps({"versions": versions, "cases": listing}), flush=True)

    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        impl, threads, op, fn = cases[int(words[1])]
        if impl.startswith("torch"):
            torch.set_num_threads(threads)
        try:
            t = time.perf_counter()
            fn()
            reply = {"ms": (time.perf_counter() - t) * 1000.0}
        except RuntimeError as err:
            reply = {"error": str(err).splitlines()[0][:200]}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
