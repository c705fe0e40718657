#!/usr/bin/env python3
"""Join mrtc's per-node profile with ONNX Runtime's, node by node.

    prof_join.py MRTC_TIMES.tsv ORT_PROFILE.txt [TOP]

MRTC_TIMES.tsv: the raw output of the profiling program of profile.sh
(ms<TAB>op<TAB>name per node); ORT_PROFILE.txt: the output of
ort_profile.js.  ORT renames fused nodes after their last member
(".../conv.0.2/Clip_output_0_nchwc" for mrtc's ".../conv.0.0/Conv" + Clip),
so both sides are keyed by the node's module path without its last index
(".../conv.0").  Where the keys do not match (ORT names a fused Conv after
its Relu module), nodes are paired by their order among nodes of the same op:
run ort_profile.js with PROF_ORDER=1 (and TOP large) for that.  Prints both
times and their ratio, largest gap first.
"""
import re
import sys


def key(name):
    name = re.sub(r"_output_\d+(_nchwc)?$", "", name)
    d = name.rsplit("/", 1)[0] if "/" in name else name
    d = re.sub(r"^(.*/[A-Za-z_]+\.\d+)\.\d+$", r"\1", d)  # features.0.0 -> features.0
    return d


a, b = [], []
for ln in open(sys.argv[1]):
    f = ln.rstrip("\n").split("\t")
    if len(f) == 3:
        a.append((float(f[0]), f[1], f[2]))
for ln in open(sys.argv[2]):
    m = re.match(r"\s*([0-9.]+)\s+(\S+)\s+(\S+)$", ln)
    if m and not ln.startswith("total"):
        b.append((float(m.group(1)), m.group(2), m.group(3)))
if len(set(key(n) for _, _, n in a) & set(key(n) for _, _, n in b)) < len(a) // 2:  # pair by order per op
    seen = {}
    for i, (t, op, n) in enumerate(b):
        seen[op] = seen.get(op, 0) + 1
        b[i] = (t, op, "%s#%d" % (op, seen[op]))
    seen = {}
    for i, (t, op, n) in enumerate(a):
        seen[op] = seen.get(op, 0) + 1
        a[i] = (t, op, "%s#%d %s" % (op, seen[op], n))
    key = lambda n: n.split(" ")[0]  # noqa: E731
ours, ort = {}, {}
for t, op, n in a:
    ours.setdefault(key(n), [0.0, op, n])[0] += t
for t, op, n in b:
    ort.setdefault(key(n), [0.0, op, n])[0] += t
top = int(sys.argv[3]) if len(sys.argv) > 3 else 40
rows = [((ours.get(k) or ort.get(k))[2], ours.get(k, [0])[0], ort.get(k, [0])[0], (ours.get(k) or ort.get(k))[1]) for k in set(ours) | set(ort)]
rows.sort(key=lambda r: -(r[1] - r[2]))
print("mrtc %.3f ms, ORT %.3f ms (sums of the joined nodes)" % (sum(r[1] for r in rows), sum(r[2] for r in rows)))
print("%9s %9s %9s %6s  %-10s %s" % ("mrtc ms", "ORT ms", "gap", "ratio", "op", "node"))
for k, a, b, op in rows[:top]:
    print("%9.3f %9.3f %+9.3f %6s  %-10s %s" % (a, b, a - b, "%.2f" % (a / b) if b else "-", op, k))
