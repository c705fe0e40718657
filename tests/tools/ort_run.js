#!/usr/bin/env node
// ONNX Runtime peer runner for mrtc tests.
//
//   node tests/tools/ort_run.js MODEL.onnx IN0.npy [IN1.npy ...] -o OUTDIR [--bench N]
//
// Inputs are bound to the model's graph inputs in order. Each output K is
// written as OUTDIR/output_K.npy with the dtype ORT produced. With --bench N
// the session is warmed up and then run N times; the script prints
//   latency_ms median=X min=Y runs=N
//
// onnxruntime-node is loaded from $ORT_DIR (a node_modules directory or the
// package directory itself); otherwise node_modules is searched upward from
// the cwd and from this script, then /tmp/ortpeer/node_modules.
'use strict';

const fs = require('fs');
const path = require('path');

function die(msg) {
  process.stderr.write('ort_run: ' + msg + '\n');
  process.exit(2);
}

// ---------------------------------------------------------------- loading ORT
function tryRequire(p) {
  try {
    if (fs.existsSync(p)) return require(p);
  } catch (e) {
    process.stderr.write(`ort_run: failed to load ${p}: ${e.message}\n`);
  }
  return null;
}

function loadOrt() {
  const cands = [];
  if (process.env.ORT_DIR) {
    const d = path.resolve(process.env.ORT_DIR);
    cands.push(path.join(d, 'onnxruntime-node'));
    cands.push(path.join(d, 'node_modules', 'onnxruntime-node'));
    cands.push(d);
  } else {
    for (const start of [process.cwd(), __dirname]) {
      let dir = path.resolve(start);
      for (;;) {
        cands.push(path.join(dir, 'node_modules', 'onnxruntime-node'));
        const up = path.dirname(dir);
        if (up === dir) break;
        dir = up;
      }
    }
    cands.push('/tmp/ortpeer/node_modules/onnxruntime-node');
  }
  for (const c of cands) {
    if (!fs.existsSync(path.join(c, 'package.json'))) continue;
    const m = tryRequire(c);
    if (m && m.InferenceSession) return m;
  }
  die('cannot find onnxruntime-node (set ORT_DIR; searched:\n  ' + cands.join('\n  ') + ')');
}

// ---------------------------------------------------------------- npy I/O
// descr -> [ort type, TypedArray ctor]
const NPY_TYPES = {
  '<f4': ['float32', Float32Array],
  '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array],
  '<u8': ['uint64', BigUint64Array],
  '<i4': ['int32', Int32Array],
  '<u4': ['uint32', Uint32Array],
  '<i2': ['int16', Int16Array],
  '<u2': ['uint16', Uint16Array],
  '|i1': ['int8', Int8Array],
  '|u1': ['uint8', Uint8Array],
  '|b1': ['bool', Uint8Array],
};
const ORT_TO_DESCR = {};
for (const [d, [t]] of Object.entries(NPY_TYPES)) ORT_TO_DESCR[t] = d;
ORT_TO_DESCR['float16'] = '<f2';

function parseHeaderDict(h) {
  // e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(h);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(h);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(h);
  if (!descr || !fortran || !shape) throw new Error('bad npy header: ' + h);
  let d = descr[1];
  if (d === '=f4' || d === 'f4') d = '<f4';
  if (d === '<i1' || d === 'i1') d = '|i1';
  if (d === '<u1' || d === 'u1') d = '|u1';
  if (d === '<b1' || d === 'b1' || d === '?' || d === '|?') d = '|b1';
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  return { descr: d, fortran: fortran[1] === 'True', shape: dims };
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    throw new Error(file + ': not a .npy file');
  }
  const major = buf.readUInt8(6);
  let hlen, off;
  if (major === 1) { hlen = buf.readUInt16LE(8); off = 10; }
  else { hlen = buf.readUInt32LE(8); off = 12; }
  const hdr = parseHeaderDict(buf.toString('latin1', off, off + hlen));
  if (hdr.fortran) throw new Error(file + ': fortran_order arrays not supported');
  const t = NPY_TYPES[hdr.descr];
  if (!t) throw new Error(file + ': unsupported dtype ' + hdr.descr);
  const [ortType, Ctor] = t;
  const n = hdr.shape.reduce((a, b) => a * b, 1);
  const start = off + hlen;
  const nbytes = n * Ctor.BYTES_PER_ELEMENT;
  if (buf.length < start + nbytes) throw new Error(file + ': truncated data');
  // copy into an aligned buffer
  const ab = new ArrayBuffer(nbytes);
  new Uint8Array(ab).set(buf.subarray(start, start + nbytes));
  let data = new Ctor(ab);
  if (ortType === 'bool') data = new Uint8Array(ab);
  return { type: ortType, dims: hdr.shape, data };
}

function writeNpy(file, type, dims, data) {
  const descr = ORT_TO_DESCR[type];
  if (!descr) throw new Error('cannot write dtype ' + type);
  const shapeStr = dims.length === 0 ? '()' : dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // total header (magic 6 + ver 2 + len 2 + h + '\n') padded to multiple of 64
  const base = 10;
  const pad = 64 - ((base + h.length + 1) % 64);
  h = h + ' '.repeat(pad % 64) + '\n';
  const header = Buffer.alloc(base + h.length);
  header.writeUInt8(0x93, 0);
  header.write('NUMPY', 1, 'latin1');
  header.writeUInt8(1, 6);
  header.writeUInt8(0, 7);
  header.writeUInt16LE(h.length, 8);
  header.write(h, base, 'latin1');
  let body;
  if (type === 'bool') {
    body = Buffer.from(Array.from(data, (v) => (v ? 1 : 0)));
  } else if (type === 'float16' && !(ArrayBuffer.isView(data))) {
    throw new Error('float16 output not a typed array');
  } else {
    body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  fs.writeFileSync(file, Buffer.concat([header, body]));
}

// ---------------------------------------------------------------- main
function parseArgs(argv) {
  const a = { model: null, inputs: [], outdir: null, bench: 0 };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    if (s === '-o' || s === '--out') a.outdir = argv[++i];
    else if (s === '--bench') a.bench = parseInt(argv[++i], 10);
    else if (s === '-h' || s === '--help') {
      process.stdout.write('usage: node ort_run.js MODEL.onnx IN0.npy [IN1.npy...] -o OUTDIR [--bench N]\n');
      process.exit(0);
    } else if (!a.model) a.model = s;
    else a.inputs.push(s);
  }
  if (!a.model) die('missing MODEL.onnx');
  if (!a.outdir && !a.bench) die('missing -o OUTDIR');
  if (a.bench && !(a.bench > 0)) die('--bench needs a positive integer');
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(args.model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const inNames = session.inputNames;
  if (args.inputs.length !== inNames.length) {
    die(`model has ${inNames.length} input(s) (${inNames.join(', ')}), got ${args.inputs.length} .npy file(s)`);
  }
  const feeds = {};
  inNames.forEach((name, i) => {
    const a = readNpy(args.inputs[i]);
    feeds[name] = new ort.Tensor(a.type, a.data, a.dims);
  });

  const results = await session.run(feeds);
  if (args.outdir) {
    fs.mkdirSync(args.outdir, { recursive: true });
    session.outputNames.forEach((name, k) => {
      const t = results[name];
      writeNpy(path.join(args.outdir, `output_${k}.npy`), t.type, t.dims, t.data);
    });
  }

  if (args.bench) {
    const warm = Math.max(3, Math.min(20, Math.ceil(args.bench / 10)));
    for (let i = 0; i < warm; i++) await session.run(feeds);
    const times = [];
    for (let i = 0; i < args.bench; i++) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((x, y) => x - y);
    const n = times.length;
    const med = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    process.stdout.write(`latency_ms median=${med.toFixed(4)} min=${times[0].toFixed(4)} runs=${n}\n`);
  }
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
