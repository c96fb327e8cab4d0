"""PyTorch twins of tools/bench/models.ts, timed the same way (forward + backward + optimizer step).

Usage: /usr/bin/python3 tools/bench/torch_models.py THREADS JSON_SPEC [DEVICE] -> prints one JSON line.
DEVICE defaults to cpu; with cuda (tools/gpu-check) every step is followed by torch.cuda.synchronize().
A job with "inferenceBatches": [1, 64] also times the forward alone (eval mode, no_grad) at those batches,
as results "<key>-inference-b<batch>" (reproductions/wallclock-cpu).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (self.short(x) if self.short is not None else x))


class ResNet18(nn.Module):
    def __init__(self, width, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        blocks, cin = [], width
        for stage, mult in enumerate([1, 2, 4, 8]):
            for i in range(2):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(Block(cin, width * mult, stride))
                cin = width * mult
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


class GPT(nn.Module):
    def __init__(self, vocab, context, d, layers, heads):
        super().__init__()
        self.heads = heads
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            self.blocks.append(nn.ModuleDict(dict(
                ln1=nn.LayerNorm(d), qkv=nn.Linear(d, 3 * d), o=nn.Linear(d, d),
                ln2=nn.LayerNorm(d), fc1=nn.Linear(d, 4 * d), fc2=nn.Linear(4 * d, d))))
        self.lnf = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.register_buffer("mask", torch.triu(torch.full((context, context), -1e9), 1))

    def forward(self, idx):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for blk in self.blocks:
            q, k, v = blk["qkv"](blk["ln1"](x)).view(B, T, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + self.mask[:T, :T], -1)
            x = x + blk["o"]((att @ v).transpose(1, 2).reshape(B, T, -1))
            x = x + blk["fc2"](F.gelu(blk["fc1"](blk["ln2"](x)), approximate="tanh"))
        return self.head(self.lnf(x))


def reset_peak_rss():
    """Linux: reset the resident-memory high-water mark, so each job reports its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_steps(step, warmup, reps, sync=lambda: None):
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    threads = int(sys.argv[1])
    spec = json.loads(sys.argv[2])
    device = torch.device(sys.argv[3] if len(sys.argv) > 3 else "cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(device), "results": {}, "peakRssMB": {}}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    for job in spec:
        reset_peak_rss()
        # Plain fp32 unless a job asks for TF32 (cuDNN's convolutions use TF32 by default on Ampere and later).
        torch.backends.cudnn.allow_tf32 = job.get("tf32", False)
        torch.backends.cuda.matmul.allow_tf32 = job.get("tf32", False)
        if job["model"] == "resnet18":
            model = ResNet18(job["width"], job.get("classes", 10)).to(device)
            masks = []
            if job.get("sparsity", 0) > 0:
                # Masked-dense Sparse Wide: every conv but the stem multiplies its weight by a fixed mask.
                for name, p in model.named_parameters():
                    if p.dim() == 4 and not name.startswith("stem"):
                        masks.append((p, (torch.rand_like(p) > job["sparsity"]).float()))
            x = torch.randn(job["batch"], 3, 32, 32, device=device)
            y = torch.arange(job["batch"], device=device) % 10
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

            def step():
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
                with torch.no_grad():
                    for p, m in masks:
                        p.mul_(m)
        else:
            model = GPT(job["vocab"], job["context"], job["dModel"], job["layers"], job["heads"]).to(device)
            idx = torch.randint(0, job["vocab"], (job["batch"], job["context"]), device=device)
            tgt = torch.randint(0, job["vocab"], (job["batch"] * job["context"],), device=device)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)

            def step():
                opt.zero_grad()
                F.cross_entropy(model(idx).view(-1, job["vocab"]), tgt).backward()
                opt.step()
        out["results"][job["key"]] = time_steps(step, job.get("warmup", 1), job.get("reps", 3), sync)
        if job["model"] == "resnet18" and job.get("inferenceBatches"):
            model.eval()
            for batch in job["inferenceBatches"]:
                xb = torch.randn(batch, 3, 32, 32, device=device)

                def forward():
                    with torch.no_grad():
                        model(xb)
                out["results"][f'{job["key"]}-inference-b{batch}'] = time_steps(forward, job.get("warmup", 1), job.get("reps", 3), sync)
        out["peakRssMB"][job["key"]] = peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
