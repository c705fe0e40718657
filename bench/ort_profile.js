#!/usr/bin/env node
// Per-node times of ONNX Runtime (single thread) for comparison with
// bench/profile.sh:  node bench/ort_profile.js MODEL.onnx IN.npy [RUNS] [TOP]
// Uses ORT's built-in profiler (enableProfiling) and prints, per node, the
// mean kernel time over RUNS runs after a warm-up, slowest first.  Note ORT
// renames and fuses nodes (e.g. "Conv + Relu" become one FusedConv node).
// With PROF_MIN set: the minimum time of each node over the runs instead of the mean;
// with PROF_ORDER set: nodes in execution order.
'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');
const cands = [];
if (process.env.ORT_DIR) cands.push(path.join(process.env.ORT_DIR, 'onnxruntime-node'), process.env.ORT_DIR);
cands.push(path.join(__dirname, '..', 'tests', 'tools', 'node_modules', 'onnxruntime-node'), '/tmp/ortpeer/node_modules/onnxruntime-node');
let ort = null;
for (const c of cands) if (!ort && fs.existsSync(path.join(c, 'package.json'))) ort = require(c);
if (!ort) { process.stderr.write('ort_profile: cannot find onnxruntime-node (set ORT_DIR)\n'); process.exit(2); }

function readNpy(file) { // float32 only, C order
  const b = fs.readFileSync(file);
  const hl = b.readUInt16LE(8), h = b.slice(10, 10 + hl).toString();
  const shape = h.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const off = 10 + hl, data = new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
  return new ort.Tensor('float32', data, shape);
}

(async () => {
  const [model, input, runsS, topS] = process.argv.slice(2);
  const runs = parseInt(runsS || '10', 10), top = parseInt(topS || '15', 10);
  const prefix = path.join(os.tmpdir(), 'ort_profile_' + process.pid);
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
    enableProfiling: true, profileFilePrefix: prefix,
  });
  const feeds = { [s.inputNames[0]]: readNpy(input) };
  for (let i = 0; i < 3; i++) await s.run(feeds);
  for (let i = 0; i < runs; i++) await s.run(feeds);
  s.endProfiling();
  const f = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('ort_profile_' + process.pid)).map((n) => path.join(os.tmpdir(), n))[0];
  const ev = JSON.parse(fs.readFileSync(f, 'utf8'));
  fs.unlinkSync(f);
  const per = {};
  for (const e of ev) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const k = e.name.replace(/_kernel_time$/, '');
    per[k] = per[k] || { us: 0, n: 0, min: Infinity, ts: e.ts, op: (e.args && e.args.op_name) || '' };
    per[k].us += e.dur; per[k].n++;
    if (e.dur < per[k].min) per[k].min = e.dur;
  }
  // mean per run (warm-ups are profiled too), or with PROF_MIN set the minimum over the runs (steadier on a loaded machine)
  const rows = Object.entries(per).map(([k, v]) => [k, v.op, process.env.PROF_MIN ? v.min * v.n / (runs + 3) : v.us / (runs + 3), v.ts]);
  const total = rows.reduce((a, r) => a + r[2], 0);
  // slowest first, or in execution order with PROF_ORDER set (bench/prof_join.py pairs nodes by it)
  rows.sort(process.env.PROF_ORDER ? (a, b) => a[3] - b[3] : (a, b) => b[2] - a[2]);
  console.log(`total ${(total / 1000).toFixed(3)} ms (sum of node kernel times per run, ${rows.length} nodes)`);
  for (const r of rows.slice(0, top)) console.log(`${(r[2] / 1000).toFixed(3).padStart(9)}  ${r[1].padEnd(14)} ${r[0]}`);
})().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
