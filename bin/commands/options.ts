/**
 * Argument helpers shared by the commands: NAME=FILE lists, writing output files (one error line
 * naming the path when its folder is missing) and output formatting.
 */
import { existsSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Parse repeated `--input NAME=FILE` / bare `FILE` options into a map ("" for a bare file). */
export function parseNamedFiles(values: unknown, flag: string): Map<string, string> {
  const list = values === undefined ? [] : Array.isArray(values) ? values.map(String) : [String(values)];
  const out = new Map<string, string>();
  for (const v of list) {
    const eq = v.indexOf("=");
    const [name, file] = eq > 0 && !v.slice(0, eq).includes("/") ? [v.slice(0, eq), v.slice(eq + 1)] : ["", v];
    if (file === "") throw new Error(`${flag} ${v}: missing file name after '='`);
    if (out.has(name)) throw new Error(`${flag} given twice for ${name === "" ? "the unnamed input" : `'${name}'`}`);
    out.set(name, file);
  }
  return out;
}

/**
 * Fails with one line naming the path ("cannot write out/x.wasm: the folder out/ does not
 * exist") when an output's folder is missing; commands call it before the work, not after.
 */
export function checkOutputFolder(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new Error(`cannot write ${path}: the folder ${dir}/ does not exist`);
}

/** Writes an output file of a command, with checkOutputFolder's error instead of Node's ENOENT. */
export function writeOutput(path: string, data: string | Uint8Array): void {
  checkOutputFolder(path);
  try {
    writeFileSync(path, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot write ${path}: ${code === "EISDIR" ? "it is a folder" : code === "EACCES" ? "permission denied" : (e as Error).message}`);
  }
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Right-pad columns into an aligned text table. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function humanBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
