/**
 * Einsum as a composition of IR ops, shared by the ONNX and TF.js front ends: the equation forms
 * transformers and their tooling use. Repeated letters in one operand (a diagonal, "ii->i",
 * "...ii->...i") become a Transpose, a Reshape to the flattened square and a Slice with step
 * n + 1; letters in neither the other operand nor the output are summed first (ReduceSum); then
 * two operands are one batched MatMul: batch letters (in both operands and the output) stay
 * separate axes (MatMul broadcasts them), the letters kept from each operand are merged into one
 * axis, the contracted letters into the other ("bhid,bhjd->bhij", "i,j->ij", "i,i->",
 * "bij,bjk->bik"); more operands are contracted left to right. A final Reshape and Transpose give
 * the output's letter order. With two operands each value is an exact sum of exact products
 * rounded once, as the float model's einsum. Ellipses stand for the leading axes, aligned from
 * the right; an implicit output ("ij,jk") is the ellipsis and the letters used once, sorted.
 * Anything else (more than 8 operands, a contracted letter whose sizes differ) is rejected with
 * the equation named.
 */
import type { Composer, Operand } from "./composite-math.js";

/** A value in the draft with one letter per axis. */
interface Labelled {
  name: string;
  labels: string[];
  shape: number[];
}

const product = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

/** Letters the equation cannot use, standing for the axes under an ellipsis (up to 26 of them). */
const ELLIPSIS_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Parse the equation for operands of these ranks into one letter list per operand and the output's. */
export function parseEquation(equation: string, ranks: number[]): { inputs: string[][]; output: string[] } {
  const fail = (why: string): never => {
    throw new Error(`Einsum equation '${equation}' is not supported: ${why}`);
  };
  const [lhs, rhs] = equation.replace(/\s+/g, "").split("->");
  const terms = lhs.split(",");
  if (terms.length !== ranks.length) fail(`it names ${terms.length} operands, the node has ${ranks.length}`);
  let ellipsisRank = 0;
  const explicit = terms.map((term, i) => {
    const letters = term.replace("...", "");
    if (!/^[a-z]*$/.test(letters)) fail(`term '${term}' has characters other than a-z and one '...'`);
    const rest = ranks[i] - letters.length;
    if (rest < 0 || (rest > 0 && !term.includes("..."))) fail(`term '${term}' does not match the operand's rank ${ranks[i]}`);
    ellipsisRank = Math.max(ellipsisRank, rest);
    return { term, rest };
  });
  if (ellipsisRank > ELLIPSIS_LETTERS.length) fail("the ellipsis covers too many axes");
  const ellipsis = (count: number) => [...ELLIPSIS_LETTERS.slice(ellipsisRank - count, ellipsisRank)];
  const expand = (term: string, rest: number) => {
    const [before, after = ""] = term.split("...");
    return term.includes("...") ? [...before, ...ellipsis(rest), ...after] : [...term];
  };
  const inputs = explicit.map(({ term, rest }) => expand(term, rest));
  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const l of terms.join("").replace(/\.\.\./g, "")) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [...ellipsis(ellipsisRank), ...[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  } else {
    if (!/^[a-z]*(\.\.\.)?[a-z]*$/.test(rhs)) fail(`output '${rhs}' has characters other than a-z and one '...'`);
    output = expand(rhs, ellipsisRank);
  }
  for (const l of output) if (!inputs.some((letters) => letters.includes(l))) fail(`output letter '${l}' is in no operand`);
  if (new Set(output).size !== output.length) fail("a letter repeats in the output");
  return { inputs, output };
}

/** Emission helpers bound to one equation. */
class EinsumBuilder {
  constructor(private readonly c: Composer, private readonly equation: string) {}

  fail(why: string): never {
    throw new Error(`Einsum equation '${this.equation}' is not supported: ${why}`);
  }

  private op(kind: string, x: Labelled, attrs: Record<string, number | number[]>, labels: string[], shape: number[]): Labelled {
    const [name] = this.c.op(kind, [x.name], attrs);
    return { name, labels, shape };
  }

  permute(x: Labelled, order: string[]): Labelled {
    if (order.every((l, i) => x.labels[i] === l)) return x;
    const perm = order.map((l) => x.labels.indexOf(l));
    return this.op("Transpose", x, { perm }, order, perm.map((p) => x.shape[p]));
  }

  reshape(x: Labelled, shape: number[], labels: string[]): Labelled {
    if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return { ...x, labels };
    return this.op("Reshape", x, { shape }, labels, shape);
  }

  /** Take the diagonal of every letter that repeats within the operand. */
  diagonals(x: Labelled): Labelled {
    for (;;) {
      const letter = x.labels.find((l, i) => x.labels.indexOf(l) !== i);
      if (letter === undefined) return x;
      const first = x.labels.indexOf(letter);
      const second = x.labels.indexOf(letter, first + 1);
      const size = x.shape[first];
      if (x.shape[second] !== size) this.fail(`letter '${letter}' has sizes ${size} and ${x.shape[second]} in one operand`);
      const rest = x.labels.flatMap((_, i) => (i === first || i === second ? [] : [i]));
      const others = rest.map((i) => x.labels[i]);
      const otherDims = rest.map((i) => x.shape[i]);
      const perm = [...rest, first, second];
      // (the two equal letters make a letter-order permute ambiguous: transpose by axis)
      const moved = perm.every((p, i) => p === i) ? x : this.op("Transpose", x, { perm }, [...others, letter, letter], [...otherDims, size, size]);
      const flat = this.reshape(moved, [...otherDims, size * size], [...others, letter]);
      x = this.op("Slice", flat, { starts: [0], ends: [size * size], axes: [otherDims.length], steps: [size + 1] }, [...others, letter], [...otherDims, size]);
    }
  }

  /** Sum the axes whose letters are not in `keep`. */
  sumOut(x: Labelled, keep: Set<string>): Labelled {
    const axes = x.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
    if (axes.length === 0) return x;
    const labels = x.labels.filter((l) => keep.has(l));
    const [name] = this.c.op("ReduceSum", [x.name], { axes, keepdims: 0 });
    return { name, labels, shape: x.shape.filter((_, i) => !axes.includes(i)) };
  }
}

/** Operands of one Einsum (each beyond the second is one more batched MatMul). */
const MAX_OPERANDS = 8;

/** Size of letter l in an operand that has it. */
const sizeOf = (x: Labelled, l: string): number => x.shape[x.labels.indexOf(l)];

/**
 * The product of x and y summed over the letters not in `result`, with axes in `result`'s order:
 * [batch..., rows, k] @ [batch..., k, cols], batch axes of size 1 broadcasting in MatMul.
 */
function contract(c: Composer, b: EinsumBuilder, x: Labelled, y: Labelled, result: string[]): Labelled {
  const keep = new Set(result);
  const a = b.sumOut(x, new Set([...result, ...y.labels]));
  const z = b.sumOut(y, new Set([...result, ...x.labels]));
  const batch = result.filter((l) => a.labels.includes(l) && z.labels.includes(l));
  const contracted = a.labels.filter((l) => z.labels.includes(l) && !keep.has(l));
  const freeA = result.filter((l) => a.labels.includes(l) && !z.labels.includes(l));
  const freeZ = result.filter((l) => z.labels.includes(l) && !a.labels.includes(l));
  for (const l of contracted) {
    if (sizeOf(a, l) !== sizeOf(z, l)) b.fail(`contracted letter '${l}' has sizes ${sizeOf(a, l)} and ${sizeOf(z, l)}`);
  }
  const k = product(contracted.map((l) => sizeOf(a, l)));
  const rows = freeA.map((l) => sizeOf(a, l));
  const cols = freeZ.map((l) => sizeOf(z, l));
  const left = b.reshape(b.permute(a, [...batch, ...freeA, ...contracted]), [...batch.map((l) => sizeOf(a, l)), product(rows), k], []);
  const right = b.reshape(b.permute(z, [...batch, ...contracted, ...freeZ]), [...batch.map((l) => sizeOf(z, l)), k, product(cols)], []);
  const [mm] = c.op("MatMul", [left.name, right.name]);
  const batchDims = batch.map((l) => Math.max(sizeOf(a, l), sizeOf(z, l)));
  const matrices: Labelled = { name: mm, labels: [], shape: [...batchDims, product(rows), product(cols)] };
  const split = b.reshape(matrices, [...batchDims, ...rows, ...cols], [...batch, ...freeA, ...freeZ]);
  return b.permute(split, result);
}

/**
 * The value of einsum(equation, operands...), emitted through `c`. Three or more operands are
 * contracted left to right, each partial product keeping the letters that the output or a later
 * operand needs (each partial product is rounded once, like the float model's).
 */
export function einsum(c: Composer, equation: string, given: Operand[]): string {
  if (given.length < 1 || given.length > MAX_OPERANDS) {
    throw new Error(`Einsum equation '${equation}' is not supported: it has ${given.length} operands (1 to ${MAX_OPERANDS} are)`);
  }
  const { inputs, output } = parseEquation(equation, given.map((x) => x.shape.length));
  const b = new EinsumBuilder(c, equation);
  const operands = inputs.map((labels, i) => b.diagonals({ name: given[i].name, labels, shape: [...given[i].shape] }));
  if (operands.length === 1) return b.permute(b.sumOut(operands[0], new Set(output)), output).name;
  let acc = operands[0];
  for (let i = 1; i < operands.length; i++) {
    const later = operands.slice(i + 1).flatMap((x) => x.labels);
    const needed = [...new Set([...output, ...later])].filter((l) => acc.labels.includes(l) || operands[i].labels.includes(l));
    acc = contract(c, b, acc, operands[i], i === operands.length - 1 ? output : needed);
  }
  return acc.name;
}
