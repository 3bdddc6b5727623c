#!/usr/bin/python3
"""PyTorch twin of `l2oevolve teacher train` for the time-per-unroll comparison (experiments/teacher/bench_unroll.sh).

Same workload as the C# run: RNNprop (m~, g~ with beta 0.95/0.95 -> Linear(2,20)+ELU -> LSTMCell 20 -> LSTMCell 20
-> Linear(20,1) -> tanh, x0.01) meta-trained on an MLP 784-20-10 sigmoid (mlp-mnist-dm) on Fashion-MNIST, batch 128,
truncated BPTT with unroll U, meta-loss = sum of losses at theta_{k+1}, gradients detached, Adam(1e-3) meta-optimizer.
Reports seconds per unroll and where they go (optimizee fwd+grad, teacher fwd, meta-backward, meta-Adam).
"""
import argparse, gzip, struct, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">i", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "i" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


class RNNprop(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre = nn.Linear(2, 20)
        self.cells = nn.ModuleList([nn.LSTMCell(20, 20), nn.LSTMCell(20, 20)])
        self.head = nn.Linear(20, 1)

    def forward(self, g, state, t):
        m, v, hs, cs = state
        with torch.no_grad():
            m = 0.95 * m + 0.05 * g
            v = 0.95 * v + 0.05 * g * g
            vs = (v / (1 - 0.95 ** t)).sqrt() + 1e-12
            x = torch.stack([m / (1 - 0.95 ** t) / vs, g / vs], 1)
        x = F.elu(self.pre(x))
        nh, nc = [], []
        for i, cell in enumerate(self.cells):
            h, c = cell(x, (hs[i], cs[i]))
            nh.append(h); nc.append(c); x = h
        return torch.tanh(self.head(x)).squeeze(-1), (m, v, nh, nc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--unroll", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    X = load_idx(f"{a.data}/train-images-idx3-ubyte.gz").reshape(-1, 784)
    Y = load_idx(f"{a.data}/train-labels-idx1-ubyte.gz").long()
    half = X.shape[0] // 2
    X, Y = X[:half], Y[:half]
    shapes = [(784, 20), (20,), (20, 10), (10,)]
    sizes = [int(torch.tensor(s).prod()) for s in shapes]
    N = sum(sizes)
    net = RNNprop()
    meta = torch.optim.Adam(net.parameters(), lr=1e-3)

    def loss_at(theta, step):
        idx = torch.randint(0, half, (a.batch,))
        x = X[idx].float().div_(255).sub_(0.5)
        w1, b1, w2, b2 = [p.view(s) for p, s in zip(theta.split(sizes), shapes)]
        return F.cross_entropy(torch.sigmoid(x @ w1 + b1) @ w2 + b2, Y[idx])

    t_opt = t_teach = t_back = t_adam = 0.0
    unrolls = 0
    per_epoch = []
    for epoch in range(a.epochs):
        start = time.perf_counter()
        theta = (torch.randn(N) * 0.01).requires_grad_(True)
        l = loss_at(theta, 1)
        g = torch.autograd.grad(l, theta)[0]
        theta = theta.detach()
        state = (torch.zeros(N), torch.zeros(N), [torch.zeros(N, 20)] * 2, [torch.zeros(N, 20)] * 2)
        for w in range(a.steps // a.unroll):
            th, total = theta, 0
            for j in range(a.unroll):
                k = w * a.unroll + j + 1
                t0 = time.perf_counter()
                u, state = net(g, state, k)
                th = th + 0.01 * u
                t1 = time.perf_counter()
                l = loss_at(th, k + 1)
                total = total + l
                g = torch.autograd.grad(l, th, retain_graph=True)[0].detach()
                t2 = time.perf_counter()
                t_teach += t1 - t0; t_opt += t2 - t1
            meta.zero_grad()
            t0 = time.perf_counter()
            total.backward()
            t1 = time.perf_counter()
            meta.step()
            t2 = time.perf_counter()
            t_back += t1 - t0; t_adam += t2 - t1
            unrolls += 1
            theta = th.detach()
            m, v, hs, cs = state
            state = (m, v, [h.detach() for h in hs], [c.detach() for c in cs])
        per_epoch.append((time.perf_counter() - start) / (a.steps // a.unroll))
        print(f"pytorch: epoch {epoch + 1}/{a.epochs} meta-loss {float(total):.5g} {per_epoch[-1]:.3f} s/unroll", flush=True)
    tot = t_opt + t_teach + t_back + t_adam
    n = max(1, unrolls)
    pct = lambda x: f"{x / n:.4f} s ({100 * x / tot:.0f}%)"
    print(f"pytorch {torch.__version__} threads {a.threads}: per unroll {tot / n:.4f} s = optimizee fwd+grad {pct(t_opt)} + teacher fwd {pct(t_teach)}"
          f" + meta-backward {pct(t_back)} + meta-Adam {pct(t_adam)} over {unrolls} unrolls; epoch wall s/unroll: "
          + ", ".join(f"{x:.3f}" for x in per_epoch))


if __name__ == "__main__":
    main()
