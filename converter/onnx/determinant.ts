/**
 * Det of [..., n, n] matrices (n <= 6) by Laplace expansion along the rows from the bottom up,
 * each level one batched MatMul of exact dot products. Level k holds the minor of every k-subset
 * S of the columns over the bottom k rows: minor(S) = sum_j (-1)^j x[n - k, S_j] * minor(S - S_j),
 * the row entries (a Gather, with the signs as an exact Mul by +-1) dotted with the minors of the
 * level below (a Gather). A minor is rounded once per level, so the determinant carries n - 1
 * roundings of the products' scale (docs/numerics.md's MatMul rule at each level).
 */
import { constValue, scalar } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";
import { onlyAttributes } from "./quantized.js";

/** Largest matrix: C(6, 3) = 20 minors per matrix at the widest level. */
const MAX_ORDER = 6;

/** The k-subsets of 0..n-1 in lexicographic order. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (let first = 0; first <= n - k; first++) {
    for (const rest of subsets(n - first - 1, k - 1)) out.push([first, ...rest.map((c) => c + first + 1)]);
  }
  return out;
}

/** Row r of x [..., n, n] as [..., n]. */
function row(n: NodeCtx, r: number, rank: number): string {
  return n.emit("Gather", [n.input(0), n.addConst(`row_${r}`, scalar("int", r))], { axis: rank - 2 })[0];
}

export const det: Handler = (n) => {
  onlyAttributes(n, []);
  const shape = n.shape(0);
  const rank = shape.length;
  const order = shape[rank - 1];
  if (rank < 2 || shape[rank - 2] !== order) throw new Error(`input X [${shape.join(",")}] is not a stack of square matrices [..., n, n]`);
  if (order > MAX_ORDER) throw new Error(`Det of ${order} x ${order} matrices is not supported (at most ${MAX_ORDER} x ${MAX_ORDER}: a Laplace expansion)`);
  const batch = shape.slice(0, rank - 2);
  let minors = row(n, order - 1, rank); // level 1: the bottom row's entries, [..., n]
  let previous = subsets(order, 1);
  for (let k = 2; k <= order; k++) {
    const level = subsets(order, k);
    const position = new Map(previous.map((s, i) => [s.join(), i]));
    const columns = level.flat();
    const signs = level.flatMap((s) => s.map((_, j) => (j % 2 === 0 ? 1 : -1)));
    const below = level.flatMap((s) => s.map((_, j) => position.get(s.filter((_, i) => i !== j).join())!));
    const [entries] = n.emit("Gather", [row(n, order - k, rank), n.addConst(`columns_${k}`, constValue("int", [level.length, k], columns))], { axis: rank - 2 });
    const [signed] = n.emit("Mul", [entries, n.addConst(`signs_${k}`, constValue("int", [level.length, k], signs))]);
    const [sub] = n.emit("Gather", [minors, n.addConst(`minors_${k}`, constValue("int", [level.length, k], below))], { axis: rank - 2 });
    const [a] = n.emit("Reshape", [signed], { shape: [...batch, level.length, 1, k] });
    const [b] = n.emit("Reshape", [sub], { shape: [...batch, level.length, k, 1] });
    [minors] = n.emit("MatMul", [a, b]);
    previous = level;
    if (k < order) [minors] = n.emit("Reshape", [minors], { shape: [...batch, level.length] });
  }
  n.finish("Reshape", [minors], { shape: batch }, undefined, 1);
};
