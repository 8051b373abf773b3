// The timing half of tools/bench_onnx.py: ONNX Runtime (onnxruntime-node) runs
// the models bench_onnx.py exported, and the sliding-window inference of a
// whole volume as glia's src/infer/predict.c does it (Gaussian blending,
// nnU-Net's window starts). Python writes the job, this writes the times.
//
//   node bench_onnx.mjs JOB.json OUT.json
//
// JOB: {"threads", "repeat", "warmup", "job": {"name", "model", "shape"} or
// {"name", "model", "volume": [C, D, H, W], "window", "overlap", "seed"}};
// a job with "input" and "output" (raw float32 files) runs once on that input
// and writes what it gives (bench_onnx.py --check compares it with torch).
// OUT: {"times": [s, ...], "max_rss_bytes"} or {"error": "..."}.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// bench_onnx.py says where node_modules is ($GLIA_ORT_MODULES or tools/onnx/node_modules)
const modules = process.env.GLIA_ORT_MODULES || path.join(path.dirname(new URL(import.meta.url).pathname), "node_modules");
const ort = createRequire(import.meta.url)(path.join(modules, "onnxruntime-node"));

const [jobFile, outFile] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(jobFile, "utf8"));
const job = spec.job;

function prod(a) {
  return a.reduce((x, y) => x * y, 1);
}

// a seeded standard normal fill (mulberry32 and Box-Muller): the data does not
// change the times, a fixed seed makes the runs repeatable
function randn(n, seed) {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  const x = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), a = 2 * Math.PI * u();
    x[i] = r * Math.cos(a);
    if (i + 1 < n) x[i + 1] = r * Math.sin(a);
  }
  return x;
}

function readRaw(file, n) {
  const b = readFileSync(file);
  if (b.length !== 4 * n) throw new Error(`${file}: ${b.length} bytes, expected ${4 * n}`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

// predict.c's window_starts: as few windows as the overlap allows, spread evenly
function windowStarts(size, win, overlap) {
  if (size <= win) return [0];
  const step = Math.max(1, Math.floor(win * (1 - overlap)));
  const count = Math.ceil((size - win) / step) + 1, actual = (size - win) / (count - 1);
  // llround: halves away from zero (Math.round rounds them up; starts are >= 0)
  return Array.from({ length: count }, (_, i) => Math.round(actual * i));
}

// predict.c's gaussian: sigma = side / 8 around side / 2, floored at 1e-8
function gaussian(w) {
  const g = new Float64Array(w * w * w), c = Math.floor(w / 2), sigma = w * 0.125;
  const e1 = new Float64Array(w);
  for (let i = 0; i < w; i++) e1[i] = ((i - c) * (i - c)) / (2 * sigma * sigma);
  for (let z = 0, v = 0; z < w; z++)
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++, v++) g[v] = Math.max(Math.exp(-(e1[z] + e1[y] + e1[x])), 1e-8);
  return g;
}

// The sliding-window inference of vol ([C, D, H, W]): the volume zero-padded to
// at least a window, windows of win^3 one at a time, sigmoid probabilities
// blended with Gaussian weights. Buffers come from ctx, allocated once.
async function slide(session, vol, dims, win, overlap, ctx) {
  const [C, D, H, W] = dims;
  const P = [Math.max(D, win), Math.max(H, win), Math.max(W, win)], pvox = P[0] * P[1] * P[2];
  const wvox = win * win * win, { g, inp, acc, wsum, prob } = ctx;
  const sd = windowStarts(P[0], win, overlap), sh = windowStarts(P[1], win, overlap), sw = windowStarts(P[2], win, overlap);
  acc.fill(0);
  wsum.fill(0);
  let OC = 0;
  for (const z0 of sd)
    for (const y0 of sh)
      for (const x0 of sw) {
        // gather: rows of the volume, zeros past its end
        const nx = Math.max(0, Math.min(win, W - x0));
        for (let c = 0; c < C; c++)
          for (let z = 0; z < win; z++)
            for (let y = 0; y < win; y++) {
              const o = ((c * win + z) * win + y) * win, k = z0 + z, j = y0 + y;
              const s = ((c * D + k) * H + j) * W + x0, n = k < D && j < H ? nx : 0;
              for (let x = 0; x < n; x++) inp[o + x] = vol[s + x];
              inp.fill(0, o + n, o + win);
            }
        const res = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", inp, [1, C, win, win, win]) });
        const out = res[session.outputNames[0]].data;
        OC = out.length / wvox;
        for (let z = 0, v = 0; z < win; z++)
          for (let y = 0; y < win; y++) {
            const row = ((z0 + z) * P[1] + y0 + y) * P[2] + x0;
            for (let x = 0; x < win; x++, v++) {
              const gv = g[v], pv = row + x;
              wsum[pv] += gv;
              for (let c = 0; c < OC; c++) acc[c * pvox + pv] += gv / (1 + Math.exp(-out[c * wvox + v]));
            }
          }
      }
  for (let c = 0; c < OC; c++)
    for (let k = 0; k < D; k++)
      for (let j = 0; j < H; j++) {
        const pr = (k * P[1] + j) * P[2], qr = ((c * D + k) * H + j) * W;
        for (let i = 0; i < W; i++) prob[qr + i] = acc[c * pvox + pr + i] / wsum[pr + i];
      }
  return { prob, windows: sd.length * sh.length * sw.length };
}

// The most this process (one job) held. Not resourceUsage().maxRSS: Linux carries
// the parent's (python with torch, a GB) high-water mark over fork and exec.
function peakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: the inherited figure is still an upper bound
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function main() {
  const session = await ort.InferenceSession.create(job.model, {
    executionProviders: ["cpu"],
    intraOpNumThreads: spec.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  let step, result;
  if (job.volume) {
    const dims = job.volume, n = prod(dims), win = job.window, oc = job.out_channels;
    const P = [Math.max(dims[1], win), Math.max(dims[2], win), Math.max(dims[3], win)];
    const vol = job.input ? readRaw(job.input, n) : randn(n, job.seed);
    const ctx = {
      g: gaussian(win), inp: new Float32Array(dims[0] * win ** 3),
      acc: new Float64Array(oc * prod(P)), wsum: new Float64Array(prod(P)), prob: new Float32Array(oc * n / dims[0]),
    };
    step = async () => {
      result = await slide(session, vol, dims, win, job.overlap, ctx);
      return result.prob;
    };
  } else {
    const n = prod(job.shape);
    const x = new ort.Tensor("float32", job.input ? readRaw(job.input, n) : randn(n, job.seed || 0), job.shape);
    step = async () => (await session.run({ [session.inputNames[0]]: x }))[session.outputNames[0]].data;
  }
  if (job.output) {
    const y = await step();
    writeFileSync(job.output, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    writeFileSync(outFile, JSON.stringify({ times: [], windows: result ? result.windows : 0 }));
    return;
  }
  const times = [];
  for (let i = 0; i < spec.warmup + spec.repeat; i++) {
    const t0 = process.hrtime.bigint();
    await step();
    const t = Number(process.hrtime.bigint() - t0) * 1e-9;
    if (i >= spec.warmup) times.push(t);
  }
  writeFileSync(outFile, JSON.stringify({ times, windows: result ? result.windows : 0, max_rss_bytes: peakRss() }));
}

main().catch((e) => {
  writeFileSync(outFile, JSON.stringify({ error: String(e && e.message ? e.message : e).split("\n")[0].slice(0, 180) }));
  process.exitCode = 1;
});
