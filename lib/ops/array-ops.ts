/**
 * The data-movement op group: ops that move, select or repeat values without arithmetic on them
 * (Resize linear aside, which interpolates with one exact rounding, and ResizeCubic, with two). Shape-giving ONNX inputs
 * (Reshape shape, Slice starts/ends/axes/steps, Pad pads, ...) are attributes here.
 */
import { Concat, Split } from "./concat-split.js";
import { Expand, Tile } from "./expand-tile.js";
import { Gather } from "./gather.js";
import { GatherND } from "./gather-nd.js";
import { Pad } from "./pad.js";
import { Flatten, Identity, Reshape, Squeeze, Unsqueeze } from "./reshape.js";
import { Resize } from "./resize.js";
import { ResizeCubic } from "./resize-cubic.js";
import { Slice } from "./slice.js";
import { Transpose } from "./transpose.js";

export const ARRAY_OPS = [
  Reshape, Flatten, Squeeze, Unsqueeze, Identity, Transpose,
  Concat, Split, Slice, Gather, GatherND, Expand, Tile, Pad, Resize, ResizeCubic,
] as const;
