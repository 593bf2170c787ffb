/**
 * The functional kernels for library users, one namespace: `ops.conv(x, w, b, attrs)`.
 * Gathered here by explicit re-export from each op file as the groups land.
 */
export { relu } from "./relu.js";
export * from "./binary.js";
export * from "./unary-arith.js";
export * from "./compare.js";
export * from "./reduce.js";
export * from "./argmax.js";
