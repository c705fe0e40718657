#!/usr/bin/env python3
"""Generate the small committed test models under tests/models/<name>/.

Each directory gets
  model.onnx             the model (static shapes, batch 1)
  input_0.npy            the input (seeded random, or a real held-out digits sample)
  expected_0.npy         output 0 computed by ONNX Runtime (tests/tools/ort_run.js)
  reference_torch_0.npy  output 0 computed by PyTorch (sanity check for expected_0)

Usage: python3 tests/models/make_models.py [OUTROOT] [--only name,name]
Needs node + onnxruntime-node (see tests/tools/ort_run.js for how it is found).
Everything is seeded, so re-running reproduces the same files on the same
torch build.
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import collections
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORT_RUN = os.path.join(ROOT, "tests", "tools", "ort_run.js")
NODE = os.environ.get("NODE", "node")


# --------------------------------------------------------------------------- helpers
def load_digits_train():
    """Import examples/digits/train.py as a module (shared data split + training loop)."""
    path = os.path.join(ROOT, "examples", "digits", "train.py")
    spec = importlib.util.spec_from_file_location("digits_train", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_ort(model_path, input_paths, outdir, bench=0):
    """Run ort_run.js; returns the stdout text (latency line when bench > 0)."""
    cmd = [NODE, ORT_RUN, model_path] + list(input_paths) + ["-o", outdir]
    if bench:
        cmd += ["--bench", str(bench)]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise RuntimeError("ort_run.js failed for %s:\n%s%s" % (model_path, res.stdout, res.stderr))
    return res.stdout


def op_summary(model_path):
    """Return (opset dict, ordered Counter of op types) for an ONNX file."""
    m = onnx.load(model_path)
    opsets = {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    ops = collections.Counter()
    for n in m.graph.node:
        ops[(n.domain + "::" if n.domain else "") + n.op_type] += 1
    return m.ir_version, opsets, ops


def format_summary(name, model_path):
    ir, opsets, ops = op_summary(model_path)
    ops_s = ", ".join("%s x%d" % (k, v) if v > 1 else k for k, v in sorted(ops.items()))
    return "%s: ir=%d opset=%s nodes=%d ops: %s" % (
        name, ir, ",".join("%s:%d" % kv for kv in opsets.items()), sum(ops.values()), ops_s)


def export(model, args, path, opset, input_names=None, output_names=None):
    model.eval()
    # Export with autograd enabled: in eval mode under no_grad, torch 1.13's
    # nn.TransformerEncoderLayer takes its fused "fast path"
    # (aten::_transformer_encoder_layer_fwd), which has no ONNX symbolic.
    with torch.enable_grad():
        torch.onnx.export(
            model, args, path, opset_version=opset,
            input_names=input_names or ["input"], output_names=output_names or ["output"],
            do_constant_folding=True,
        )
    onnx.checker.check_model(onnx.load(path))


def finish(name, outdir, model, x, opset, rtol=1e-3, atol=1e-4, input_names=None, output_names=None):
    """Export `model` on input `x`, write input/reference/expected; check ORT vs torch."""
    os.makedirs(outdir, exist_ok=True)
    x = np.ascontiguousarray(x)
    mpath = os.path.join(outdir, "model.onnx")
    export(model, torch.from_numpy(x), mpath, opset, input_names, output_names)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    np.save(os.path.join(outdir, "input_0.npy"), x)
    np.save(os.path.join(outdir, "reference_torch_0.npy"), ref)
    return produce_expected(name, outdir, ref, rtol, atol)


def produce_expected(name, outdir, ref, rtol=1e-3, atol=1e-4):
    mpath = os.path.join(outdir, "model.onnx")
    tmp = tempfile.mkdtemp(prefix="mrtc_ort_")
    try:
        run_ort(mpath, [os.path.join(outdir, "input_0.npy")], tmp)
        exp = np.load(os.path.join(tmp, "output_0.npy"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    np.save(os.path.join(outdir, "expected_0.npy"), exp)
    err = float(np.abs(exp.astype(np.float64) - ref).max())
    ok = exp.shape == ref.shape and np.allclose(exp, ref, rtol=rtol, atol=atol)
    size = sum(os.path.getsize(os.path.join(outdir, f)) for f in os.listdir(outdir))
    print("[%s] out %s max|ort-torch|=%.2e %s; dir %d bytes"
          % (name, tuple(exp.shape), err, "ok" if ok else "MISMATCH", size))
    print("  " + format_summary(name, mpath))
    if not ok:
        raise RuntimeError("%s: ORT and torch disagree" % name)
    if size > 300 * 1024:
        raise RuntimeError("%s: directory is %d bytes (> 300 KB)" % (name, size))
    return exp


def randomize_bn(model, gen):
    """Give BatchNorm layers non-trivial running stats / affine params."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def perturb_params(model, gen, scale=0.1):
    """Add seeded noise to every parameter, so that zero biases / unit LayerNorm
    weights become distinct values (otherwise the exporter deduplicates equal
    initializers into Identity nodes and the test exercises less)."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)


# --------------------------------------------------------------------------- models
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.net(x)


def make_mlp_digits(out, dt):
    dt.seed_all()
    x_train, x_test, y_train, y_test = dt.load_split()
    xtr = x_train.reshape(len(x_train), 64)
    xte = x_test.reshape(len(x_test), 64)
    model = dt.train(MLP(), xtr, y_train, epochs=60)
    print("[mlp_digits] torch test accuracy %.4f" % dt.accuracy(model, xte, y_test))
    finish("mlp_digits", out, model, xte[:1].astype(np.float32), 13, output_names=["logits"])


class CNN2(nn.Module):
    """Second digits CNN: Conv+BN (folded by the exporter), strided conv, avg pool."""

    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(1, 12, 3, padding=1), nn.BatchNorm2d(12), nn.ReLU(),
            nn.Conv2d(12, 24, 3, stride=2, padding=1), nn.ReLU(),   # 24 x 4 x 4
            nn.Conv2d(24, 32, 3, padding=1), nn.ReLU(),
            nn.AvgPool2d(2),                                         # 32 x 2 x 2
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(128, 10))

    def forward(self, x):
        return self.head(self.f(x))


def make_cnn_digits(out, dt):
    dt.seed_all()
    x_train, x_test, y_train, y_test = dt.load_split()
    model = dt.train(CNN2(), x_train, y_train, epochs=40)
    print("[cnn_digits] torch test accuracy %.4f" % dt.accuracy(model, x_test, y_test))
    finish("cnn_digits", out, model, x_test[:1].astype(np.float32), 13, output_names=["logits"])


class LeNetBN(nn.Module):
    """LeNet-style CNN for 1x28x28 input with BatchNorm kept in the graph."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)            # 6x24x24
        self.p1 = nn.MaxPool2d(2)               # 6x12x12
        self.bn1 = nn.BatchNorm2d(6)            # after pool: not folded into conv
        self.c2 = nn.Conv2d(6, 16, 5)           # 16x8x8
        self.p2 = nn.MaxPool2d(2)               # 16x4x4
        self.fc1 = nn.Linear(256, 64)
        self.bn2 = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, 10)
        self.flat = nn.Flatten()

    def forward(self, x):
        x = self.bn1(self.p1(torch.relu(self.c1(x))))
        x = self.p2(torch.relu(self.c2(x)))
        x = torch.relu(self.bn2(self.fc1(self.flat(x))))
        return self.fc2(x)


def make_tiny_opset9(out, _dt):
    torch.manual_seed(9)
    g = torch.Generator().manual_seed(9)
    model = LeNetBN().eval()
    randomize_bn(model, g)
    x = torch.randn(1, 1, 28, 28, generator=g).numpy().astype(np.float32)
    finish("tiny_opset9", out, model, x, 9)


class TinyConcat(nn.Module):
    """Two conv branches (max/avg pooled) concatenated, then Gemm + Softmax."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.a = nn.Sequential(nn.Conv2d(8, 8, 1), nn.ReLU(), nn.MaxPool2d(2))
        self.b = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.Sigmoid(), nn.AvgPool2d(2))
        self.fc = nn.Linear(16 * 8 * 8, 10)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([self.a(x), self.b(x)], dim=1)
        x = torch.flatten(x, 1)
        return torch.softmax(self.fc(x), dim=1)


def make_tiny_opset8(out, _dt):
    torch.manual_seed(8)
    g = torch.Generator().manual_seed(8)
    model = TinyConcat().eval()
    x = torch.randn(1, 3, 16, 16, generator=g).numpy().astype(np.float32)
    finish("tiny_opset8", out, model, x, 8)


def make_transformer_small(out, _dt):
    torch.manual_seed(13)
    g = torch.Generator().manual_seed(13)
    model = nn.TransformerEncoderLayer(
        d_model=32, nhead=2, dim_feedforward=64, dropout=0.0, batch_first=True).eval()
    perturb_params(model, g)
    x = torch.randn(1, 4, 32, generator=g).numpy().astype(np.float32)
    finish("transformer_small", out, model, x, 13)


MODELS = collections.OrderedDict([
    ("mlp_digits", make_mlp_digits),
    ("cnn_digits", make_cnn_digits),
    ("tiny_opset9", make_tiny_opset9),
    ("tiny_opset8", make_tiny_opset8),
    ("transformer_small", make_transformer_small),
])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outroot", nargs="?", default=HERE)
    ap.add_argument("--only", default="", help="comma-separated model names")
    args = ap.parse_args()
    torch.set_num_threads(1)
    dt = load_digits_train()
    names = [n for n in args.only.split(",") if n] or list(MODELS)
    for n in names:
        MODELS[n](os.path.join(args.outroot, n), dt)


if __name__ == "__main__":
    sys.exit(main())
