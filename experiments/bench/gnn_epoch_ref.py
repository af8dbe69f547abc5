#!/usr/bin/env python3
"""Reference timings for experiments/bench/gnn_epoch.ts: one training epoch
(forward, backward, Adam step) of a 2-layer GCN (Kipf & Welling 2017) and
of GAT (Velickovic et al. 2018) written in plain PyTorch, on the graphs
and features that the TypeScript benchmark wrote, plus the raw dense
products whose speed decides those epochs.

Reads from --dir: meta.json ({"datasets": [{"name", "nodes", "edges",
"features", "classes"}], "products": [[m, k, n], ...]}) and, per dataset
NAME, NAME.rowPtr.bin and NAME.colIdx.bin (int32 CSR by destination, no
self-loops, both directions of every undirected edge), NAME.x.bin
(float32 nodes x features), NAME.labels.bin and NAME.train.bin (int32).

Driven over stdin/stdout, one JSON line per message, so that the
benchmark can interleave its own runs with these: first it prints
{"versions": {...}, "cases": [{"name", ...}]}; then, for each line
"run <i>" it times case i once and prints {"ms": <float>} (or
{"error": "..."}); "quit" or the end of input ends it.

The models, as plain PyTorch code would write them:
- GCN: dropout(x, 0.5) -> A_hat (x W1) + b1 -> relu -> dropout 0.5 ->
  A_hat (h W2) + b2 -> log_softmax, with A_hat = D^-1/2 (A + I) D^-1/2 as
  a torch sparse CSR tensor; Adam lr 0.01, weight decay 5e-4.
- GAT: dropout(x, 0.6) -> 8 heads x 8 units (concatenated) -> elu ->
  dropout 0.6 -> 1 head, C units -> log_softmax; attention
  LeakyReLU(0.2) of a_src.h_j + a_dst.h_i over in-edges with self-loops,
  softmax per destination (scatter_reduce amax, index_add), attention
  dropout 0.6, messages alpha_ij h_j summed with index_add; Adam lr
  0.005, weight decay 5e-4.
Loss: NLL of the training nodes. torch.set_num_threads(t) for each t of
--threads (default "2"): the epochs are listed once per thread count,
the products with the first one only.

Needs numpy and torch; on Debian: apt-get update && apt-get install -y
python3-torch (then run with /usr/bin/python3). Exits with status 3 when
one is missing.
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
            f"gnn_epoch_ref.py: python module '{module}' is missing. "
            "Install the Debian packages with: apt-get update && "
            "apt-get install -y python3-torch\n"
        )
        sys.exit(3)


# torch calls its CSR tensors and scatter_reduce "beta" on every use
warnings.filterwarnings("ignore", category=UserWarning)
np = need("numpy")
torch = need("torch")
nn = torch.nn
F = torch.nn.functional


def load(directory, spec):
    name = spec["name"]

    def read(suffix, dtype):
        return np.fromfile(os.path.join(directory, f"{name}.{suffix}"), dtype)

    n, f = spec["nodes"], spec["features"]
    row_ptr = read("rowPtr.bin", np.int32).astype(np.int64)
    src = read("colIdx.bin", np.int32).astype(np.int64)
    dst = np.repeat(np.arange(n, dtype=np.int64), np.diff(row_ptr))
    x = read("x.bin", np.float32).reshape(n, f)
    labels = read("labels.bin", np.int32).astype(np.int64)
    train = read("train.bin", np.int32).astype(np.int64)
    return {
        "n": n,
        "f": f,
        "c": spec["classes"],
        "src": torch.from_numpy(src),
        "dst": torch.from_numpy(dst),
        "x": torch.from_numpy(x),
        "y": torch.from_numpy(labels),
        "train": torch.from_numpy(train),
    }


def glorot(rows, cols):
    w = torch.empty(rows, cols)
    nn.init.xavier_uniform_(w)
    return nn.Parameter(w)


def gcn_matrix(data):
    """D^-1/2 (A + I) D^-1/2 as a sparse CSR tensor."""
    n = data["n"]
    loops = torch.arange(n)
    row = torch.cat([data["dst"], loops])
    col = torch.cat([data["src"], loops])
    deg = torch.zeros(n).index_add_(0, row, torch.ones(row.numel()))
    w = deg[row].rsqrt() * deg[col].rsqrt()
    coo = torch.sparse_coo_tensor(torch.stack([row, col]), w, (n, n))
    return coo.coalesce().to_sparse_csr()


class GCN(nn.Module):
    def __init__(self, f, hidden, c, a_hat):
        super().__init__()
        self.w1 = glorot(f, hidden)
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.w2 = glorot(hidden, c)
        self.b2 = nn.Parameter(torch.zeros(c))
        self.a_hat = a_hat

    def forward(self, x):
        x = F.dropout(x, 0.5, self.training)
        h = torch.sparse.mm(self.a_hat, x @ self.w1) + self.b1
        h = F.dropout(F.relu(h), 0.5, self.training)
        out = torch.sparse.mm(self.a_hat, h @ self.w2) + self.b2
        return F.log_softmax(out, dim=1)


class GATLayer(nn.Module):
    def __init__(self, f, units, heads, concat, src, dst, n):
        super().__init__()
        self.units, self.heads, self.concat, self.n = units, heads, concat, n
        self.w = glorot(f, heads * units)
        self.att_src = nn.Parameter(glorot(heads, units).data)
        self.att_dst = nn.Parameter(glorot(heads, units).data)
        width = heads * units if concat else units
        self.bias = nn.Parameter(torch.zeros(width))
        self.src, self.dst = src, dst
        self.index = dst.unsqueeze(1).expand(-1, heads)

    def forward(self, x, dropout, training):
        n, h_, u = self.n, self.heads, self.units
        h = (x @ self.w).view(n, h_, u)
        s_src = (h * self.att_src).sum(-1)
        s_dst = (h * self.att_dst).sum(-1)
        e = F.leaky_relu(s_src[self.src] + s_dst[self.dst], 0.2)

        # softmax over each destination's in-edges
        e_max = torch.zeros(n, h_).scatter_reduce(
            0, self.index, e, reduce="amax", include_self=False
        )
        ex = (e - e_max[self.dst]).exp()
        den = torch.zeros(n, h_).index_add(0, self.dst, ex)
        alpha = ex / den[self.dst]
        alpha = F.dropout(alpha, dropout, training)

        msg = h[self.src] * alpha.unsqueeze(-1)
        out = torch.zeros(n, h_, u).index_add(0, self.dst, msg)
        out = out.reshape(n, h_ * u) if self.concat else out.mean(1)
        return out + self.bias


class GAT(nn.Module):
    def __init__(self, data):
        super().__init__()
        n = data["n"]
        loops = torch.arange(n)
        src = torch.cat([data["src"], loops])
        dst = torch.cat([data["dst"], loops])
        self.l1 = GATLayer(data["f"], 8, 8, True, src, dst, n)
        self.l2 = GATLayer(64, data["c"], 1, False, src, dst, n)

    def forward(self, x):
        x = F.dropout(x, 0.6, self.training)
        h = F.elu(self.l1(x, 0.6, self.training))
        h = F.dropout(h, 0.6, self.training)
        return F.log_softmax(self.l2(h, 0.6, self.training), dim=1)


def epoch_case(data, model_name):
    if model_name == "gcn":
        model = GCN(data["f"], 16, data["c"], gcn_matrix(data))
        opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    else:
        model = GAT(data)
        opt = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=5e-4)
    x, y, train = data["x"], data["y"], data["train"]

    def run():
        model.train()
        opt.zero_grad()
        out = model(x)
        loss = F.nll_loss(out[train], y[train])
        loss.backward()
        opt.step()
        return float(loss)

    return run


def product_case(m, k, n, backward):
    """x [m, k] times a parameter w [k, n]; backward: dW only."""
    gen = torch.Generator().manual_seed(m * 7 + k * 3 + n)
    x = torch.rand(m, k, generator=gen)
    w = torch.rand(k, n, generator=gen, requires_grad=backward)
    dy = torch.rand(m, n, generator=gen)

    def run():
        if backward:
            w.grad = None
            (x @ w).backward(dy)
        else:
            with torch.no_grad():
                x @ w

    return run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--threads", default="2")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]
    torch.set_num_threads(thread_counts[0])
    torch.manual_seed(args.seed)
    with open(os.path.join(args.dir, "meta.json")) as f:
        meta = json.load(f)

    cases = []
    for spec in meta["datasets"]:
        data = load(args.dir, spec)
        for model_name in ("gcn", "gat"):
            for threads in thread_counts:
                cases.append(
                    (
                        {"kind": "epoch", "dataset": spec["name"],
                         "model": model_name, "threads": threads},
                        epoch_case(data, model_name),
                    )
                )
    for m, k, n in meta["products"]:
        for backward in (False, True):
            cases.append(
                (
                    {"kind": "product", "m": m, "k": k, "n": n,
                     "backward": backward, "threads": thread_counts[0]},
                    product_case(m, k, n, backward),
                )
            )

    versions = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": torch.__version__,
        "threads": thread_counts[0],
    }
    listing = [c[0] for c in cases]
    print(json.dumps({"versions": versions, "cases": listing}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        spec, fn = cases[int(words[1])]
        torch.set_num_threads(spec["threads"])
        try:
            t = time.perf_counter()
            fn()
            reply = {"ms": (time.perf_counter() - t) * 1000.0}
        except RuntimeError as err:
            reply = {"error": str(err).splitlines()[0][:200]}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
