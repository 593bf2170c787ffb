/**
 * The ONNX front end of detml: `convertOnnx(bytes, options)` turns an ONNX model (opsets 7..18,
 * as PyTorch and other exporters write them) into a validated detml Graph plus a report of what
 * happened; `convertOnnxFile(path)` reads the file and finds external tensor data beside it.
 */
import { dirname } from "node:path";
import { readFileOrFail } from "../../lib/model-files.js";
import { convertOnnx, type ConvertOptions } from "./convert.js";

export { convertOnnx, type ConvertOptions, type ConvertReport } from "./convert.js";
export { ONNX_OPS, isSupported } from "./ops.js";

export function convertOnnxFile(path: string, options: Omit<ConvertOptions, "source"> = {}): ReturnType<typeof convertOnnx> {
  return convertOnnx(readFileOrFail(path, "ONNX model"), { baseDir: dirname(path), ...options, source: path });
}
