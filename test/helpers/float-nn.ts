/**
 * Plain float implementations of a few layers, written independently of lib/ops, used as the
 * oracle for whole-graph tests (executor, codec, CLI). Row-major arrays, NCHW layout.
 */

export function matmulF(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
    out[i * n + j] = s;
  }
  return out;
}

export function addBiasF(x: Float64Array, bias: ArrayLike<number>): Float64Array {
  return x.map((v, i) => v + bias[i % bias.length]);
}

export function reluF(x: Float64Array): Float64Array {
  return x.map((v) => Math.max(0, v));
}

/** Conv2D, stride 1, symmetric zero padding `pad`, one batch. x [C,H,W], w [M,C,K,K], b [M]. */
export function conv2dF(x: ArrayLike<number>, c: number, h: number, wd: number, w: ArrayLike<number>, m: number, k: number, b: ArrayLike<number>, pad: number): { data: Float64Array; h: number; w: number } {
  const oh = h + 2 * pad - k + 1;
  const ow = wd + 2 * pad - k + 1;
  const out = new Float64Array(m * oh * ow);
  for (let o = 0; o < m; o++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    let s = b[o];
    for (let ci = 0; ci < c; ci++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = y + ky - pad;
      const ix = xx + kx - pad;
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
      s += x[(ci * h + iy) * wd + ix] * w[((o * c + ci) * k + ky) * k + kx];
    }
    out[(o * oh + y) * ow + xx] = s;
  }
  return { data: out, h: oh, w: ow };
}

/** 2x2 max pool, stride 2, on [C,H,W]. */
export function maxPool2F(x: Float64Array, c: number, h: number, w: number): { data: Float64Array; h: number; w: number } {
  const oh = Math.floor(h / 2);
  const ow = Math.floor(w / 2);
  const out = new Float64Array(c * oh * ow);
  for (let ci = 0; ci < c; ci++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    let best = -Infinity;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) best = Math.max(best, x[(ci * h + 2 * y + dy) * w + 2 * xx + dx]);
    out[(ci * oh + y) * ow + xx] = best;
  }
  return { data: out, h: oh, w: ow };
}
