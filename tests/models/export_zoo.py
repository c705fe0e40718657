#!/usr/bin/env python3
"""Export the (large, NOT committed) model zoo used by tests/models/zoo_check.sh.

Usage: python3 tests/models/export_zoo.py OUTDIR [--only a,b] [--bench N]

For each model writes OUTDIR/<name>/
  model.onnx             random weights (torch.manual_seed(0)), eval mode, static batch 1
  input_0.npy            seeded input (numpy default_rng(0), standard normal, float32)
  expected_0.npy         output 0 by ONNX Runtime (tests/tools/ort_run.js)
  reference_torch_0.npy  output 0 by PyTorch (sanity check)
With --bench N also runs ort_run.js --bench N and writes ort_latency.txt.
Prints the distinct op types of every exported model.
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import collections
import os
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_models import format_summary, run_ort  # noqa: E402


def tv(name):
    def build():
        fn = getattr(torchvision.models, name)
        try:
            return fn(weights=None)
        except TypeError:  # older torchvision
            return fn(pretrained=False)
    return build


def encoder128():
    m = nn.TransformerEncoderLayer(d_model=128, nhead=4, batch_first=True, dropout=0.0)
    # default init has zero biases and unit LayerNorm weights; make them distinct
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return m


def calibrate_bn(model, shape, batches=4, batch=8):
    """Recompute BatchNorm running stats on seeded random images.

    With torchvision's default init (running mean 0 / var 1) deep nets are
    badly scaled: random mobilenet_v2 gives logits of about 1e-9, which any
    atol passes. A few train-mode forwards with momentum=None make every BN
    layer normalise for real, so outputs are O(1). Weights stay random.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return model
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    g = torch.Generator().manual_seed(1234)
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn((batch,) + tuple(shape[1:]), generator=g))
    return model.eval()


IMG = (1, 3, 224, 224)
# name -> (builder, input shape, opset)
ZOO = collections.OrderedDict([
    ("resnet18", (tv("resnet18"), IMG, 13)),
    ("resnet50", (tv("resnet50"), IMG, 13)),
    ("mobilenet_v2", (tv("mobilenet_v2"), IMG, 13)),
    ("squeezenet1_1", (tv("squeezenet1_1"), IMG, 13)),
    ("transformer_encoder128", (encoder128, (1, 16, 128), 13)),
    ("squeezenet1_1_opset9", (tv("squeezenet1_1"), IMG, 9)),
    ("resnet18_opset9", (tv("resnet18"), IMG, 9)),
    ("squeezenet1_1_opset8", (tv("squeezenet1_1"), IMG, 8)),
    ("resnet18_opset8", (tv("resnet18"), IMG, 8)),
])


def export_one(name, outroot, bench):
    build, shape, opset = ZOO[name]
    d = os.path.join(outroot, name)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    model = calibrate_bn(build(), shape).eval()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.save(os.path.join(d, "input_0.npy"), x)
    mpath = os.path.join(d, "model.onnx")
    t0 = time.time()
    # autograd stays enabled while exporting: under no_grad, torch 1.13's
    # TransformerEncoderLayer takes a fused fast path that cannot be exported.
    with torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.from_numpy(x), mpath, opset_version=opset,
                          input_names=["input"], output_names=["output"],
                          do_constant_folding=True)
    onnx.checker.check_model(mpath)
    t_exp = time.time() - t0
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    np.save(os.path.join(d, "reference_torch_0.npy"), ref)

    tmp = tempfile.mkdtemp(prefix="mrtc_zoo_")
    try:
        run_ort(mpath, [os.path.join(d, "input_0.npy")], tmp)
        exp = np.load(os.path.join(tmp, "output_0.npy"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    np.save(os.path.join(d, "expected_0.npy"), exp)
    err = float(np.abs(exp.astype(np.float64) - ref).max())
    ok = exp.shape == ref.shape and np.allclose(exp, ref, rtol=1e-3, atol=1e-4)
    print("[%s] opset %d, %.1f MB, export %.1fs, out %s range [%.3g, %.3g], max|ort-torch|=%.2e %s"
          % (name, opset, os.path.getsize(mpath) / 1e6, t_exp, tuple(exp.shape),
             float(exp.min()), float(exp.max()), err, "ok" if ok else "MISMATCH"))
    print("  " + format_summary(name, mpath))
    lat = None
    if bench:
        tmp = tempfile.mkdtemp(prefix="mrtc_zoo_")
        try:
            lat = run_ort(mpath, [os.path.join(d, "input_0.npy")], tmp, bench=bench).strip()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        with open(os.path.join(d, "ort_latency.txt"), "w") as f:
            f.write(lat + "\n")
        print("  ORT (1 thread): " + lat)
    sys.stdout.flush()
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--only", default="", help="comma-separated subset of: " + ",".join(ZOO))
    ap.add_argument("--bench", type=int, default=0, help="also time ORT over N runs")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    names = [n for n in args.only.split(",") if n] or list(ZOO)
    bad = []
    for n in names:
        try:
            if not export_one(n, args.outdir, args.bench):
                bad.append(n)
        except Exception as e:  # keep going: one exporter failure should not hide the rest
            print("[%s] FAILED: %s: %s" % (n, type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
            bad.append(n)
    print("exported %d/%d models to %s" % (len(names) - len(bad), len(names), args.outdir))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
