#!/usr/bin/env python3
"""Train a small CNN on sklearn's bundled 8x8 digits and export it to ONNX.

Writes next to this script:
  model.onnx   opset 13, input "input" [1,1,8,8] float32, output "logits" [1,10]
  test_x.npy   float32 [N,1,8,8]   held-out images, normalised as in training (x / 16)
  test_y.npy   int64   [N]         labels

Usage: python3 examples/digits/train.py [OUTDIR]
Everything is seeded; no downloads (load_digits ships with scikit-learn).
"""
import os
import random
import sys

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
TEST_SIZE = 360
EPOCHS = 40
BATCH = 32
LR = 2e-3


def seed_all(seed=SEED):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)


def load_split():
    """Return (x_train, x_test, y_train, y_test); x float32 [N,1,8,8] in [0,1], y int64."""
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = d.target.astype(np.int64)
    return train_test_split(x, y, test_size=TEST_SIZE, stratify=y, random_state=SEED)


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),                      # 32 x 4 x 4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def train(model, x_train, y_train, epochs=EPOCHS, lr=LR, batch=BATCH):
    g = torch.Generator().manual_seed(SEED)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    lossf = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = lossf(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    return model


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    pred = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == y).mean())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    seed_all()
    x_train, x_test, y_train, y_test = load_split()
    model = train(DigitsCNN(), x_train, y_train)
    acc = accuracy(model, x_test, y_test)
    print("train samples %d, test samples %d" % (len(y_train), len(y_test)))
    print("torch test accuracy: %.4f (%d/%d)" % (acc, round(acc * len(y_test)), len(y_test)))

    path = os.path.join(out, "model.onnx")
    torch.onnx.export(
        model, torch.zeros(1, 1, 8, 8), path,
        opset_version=13, input_names=["input"], output_names=["logits"],
        do_constant_folding=True,
    )
    np.save(os.path.join(out, "test_x.npy"), np.ascontiguousarray(x_test, dtype=np.float32))
    np.save(os.path.join(out, "test_y.npy"), np.ascontiguousarray(y_test, dtype=np.int64))
    print("wrote %s (%d bytes), test_x.npy %s, test_y.npy %s"
          % (path, os.path.getsize(path), x_test.shape, y_test.shape))


if __name__ == "__main__":
    main()
