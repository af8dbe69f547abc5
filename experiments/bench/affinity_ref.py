#!/usr/bin/env python3
"""Reference timings for experiments/bench/affinity.ts: the uniformity
step softmax(F F^T / tau) F and its gradient, written densely in PyTorch
and numpy, on the features that the TypeScript benchmark wrote.

Reads --dir/meta.json (nodes, dim, tau, runs) and f.bin, r.bin (float32,
nodes x dim, row-major). Prints one JSON object: versions, and for each
case the list of run times in ms (after one warm-up) and a checksum of
the result (the sum of r * out and of the gradient) for agreement.
Needs numpy and torch (Debian: python3-numpy, python3-torch); exits with
status 3 when one is missing.
"""

import argparse
import json
import os
import sys
import time

try:
    import numpy as np
    import torch
except ImportError as err:  # pragma: no cover - depends on the machine
    print(json.dumps({"error": f"missing package: {err.name}"}))
    sys.exit(3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    meta = json.load(open(os.path.join(args.dir, "meta.json")))
    n, k, tau, runs = meta["nodes"], meta["dim"], meta["tau"], meta["runs"]
    f_np = np.fromfile(os.path.join(args.dir, "f.bin"), np.float32)
    r_np = np.fromfile(os.path.join(args.dir, "r.bin"), np.float32)
    f_np = f_np.reshape(n, k)
    r_np = r_np.reshape(n, k)
    torch.set_num_threads(args.threads)
    r = torch.from_numpy(r_np)

    def forward():
        f = torch.from_numpy(f_np)
        with torch.no_grad():
            out = torch.softmax(f @ f.T / tau, dim=1) @ f
        return float((r * out).sum())

    def backward():
        f = torch.from_numpy(f_np).clone().requires_grad_(True)
        out = torch.softmax(f @ f.T / tau, dim=1) @ f
        (r * out).sum().backward()
        return float(f.grad.sum())

    results = {}
    for name, fn in (("forward", forward), ("forward+backward", backward)):
        check = fn()
        ms = []
        for _ in range(runs):
            t0 = time.perf_counter()
            check = fn()
            ms.append((time.perf_counter() - t0) * 1000)
        results[name] = {"ms": ms, "check": check}
    print(
        json.dumps(
            {
                "versions": {"torch": torch.__version__, "numpy": np.__version__},
                "threads": args.threads,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
