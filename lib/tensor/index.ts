export * from "./fixed.js";
export * from "./shape.js";
export * from "./tensor.js";
export * from "./npy.js";
export * from "./narrow.js";
