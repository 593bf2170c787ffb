/**
 * Reading the files a model names beside itself: ONNX external data (`location`, `offset`,
 * `length` of a tensor) and TF.js weight shards (the manifest's `paths`). Both are written by
 * whoever made the model, so a path may try to leave the model's folder (`/etc/passwd`,
 * `../../secret`, a symlink pointing out) or name a device or a huge file (`/dev/zero`), which
 * would leak a file into the weights or exhaust memory. `readModelFile` is the one gate both front
 * ends use: the path must be relative without `..` components, resolve (symlinks followed, by
 * realpath on both sides) to a regular file inside the folder, and have the size the caller
 * expects, all checked with stat BEFORE a byte is read; then exactly the expected range is read.
 * Errors are one line: the caller's `where` (model file, tensor or weight, and the quoted path)
 * followed by what is wrong.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, posix, sep, win32 } from "node:path";

/** A one-line error about a file a model names (front ends pass it on without rewording). */
export class ModelFileError extends Error {
  override name = "ModelFileError";
}

export interface ModelFileRange {
  /** Bytes the tensor needs: the bytes read must be exactly this many. */
  expectedBytes?: number;
  /** Where the data starts in the file (default 0). */
  offset?: number;
  /** Bytes to read from `offset` (default: to the end of the file). */
  length?: number;
  /** Refuse a file larger than this (a shard the remaining weights cannot need). */
  maxBytes?: number;
}

const errnoReason = (e: unknown, path: string): string => {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") return `cannot be read: no such file (looked for ${path})`;
  if (code === "ELOOP") return "cannot be read: too many levels of symbolic links";
  return `cannot be read: ${code ?? (e as Error).message}`;
};

/** Why a path a model names is not a plain relative path inside its folder, or undefined. */
function pathProblem(relPath: string): string | undefined {
  if (typeof relPath !== "string" || relPath === "") return "is empty";
  if (relPath.includes("\0")) return "contains a NUL byte";
  // Either convention's absolute paths (a model may come from Windows: C:\x, \\server\share).
  if (isAbsolute(relPath) || posix.isAbsolute(relPath) || win32.isAbsolute(relPath)) return "is outside the model's folder (an absolute path)";
  if (relPath.split(/[\\/]/).includes("..")) return "is outside the model's folder (a '..' component)";
  return undefined;
}

/**
 * Read `relPath` (relative to `folder`, the model's directory) under the rules above. `where`
 * opens every error and should quote the path, e.g. "model.onnx: initializer 'fc.weight':
 * external_data location 'w.bin'".
 */
export function readModelFile(folder: string, relPath: string, range: ModelFileRange, where: string): Uint8Array {
  const fail = (problem: string): never => {
    throw new ModelFileError(`${where} ${problem}`);
  };
  const bad = pathProblem(relPath);
  if (bad) fail(bad);
  const path = join(folder, relPath);
  let real = "";
  let realFolder = "";
  try {
    realFolder = realpathSync(folder);
    real = realpathSync(path);
  } catch (e) {
    fail(errnoReason(e, path));
  }
  // The separator keeps /models/a from accepting /models/ab/x.
  const inside = realFolder.endsWith(sep) ? realFolder : realFolder + sep;
  if (real === realFolder) fail("is not a regular file (it is the model's folder)");
  if (!real.startsWith(inside)) fail(`is outside the model's folder (it resolves to ${real})`);
  let size = 0;
  try {
    const st = statSync(real);
    if (!st.isFile()) fail(`is not a regular file${st.isDirectory() ? " (a directory)" : ""}`);
    size = st.size;
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    fail(errnoReason(e, path));
  }
  const offset = range.offset ?? 0;
  if (range.maxBytes !== undefined && size > range.maxBytes) {
    fail(`has ${size} bytes, more than the ${range.maxBytes} the manifest's remaining weights need`);
  }
  if (!(Number.isSafeInteger(offset) && offset >= 0 && offset <= size)) fail(`has ${size} bytes: offset ${offset} is outside it`);
  const length = range.length ?? size - offset;
  if (!Number.isSafeInteger(length) || length < 0 || offset + length > size) {
    fail(`has ${size} bytes: offset ${offset} + length ${length} runs past its end`);
  }
  if (range.expectedBytes !== undefined && length !== range.expectedBytes) {
    fail(`holds ${length} bytes${range.length === undefined ? ` from offset ${offset} to its end` : ` (length)`}, the tensor needs ${range.expectedBytes}`);
  }
  return readRange(real, offset, length, fail);
}

/**
 * Read exactly `length` bytes at `offset`. O_NOFOLLOW refuses a symlink swapped in after the
 * realpath check; O_NONBLOCK keeps a FIFO swapped in from blocking the open; fstat re-checks that
 * the opened file is the regular file of the checked size.
 */
function readRange(real: string, offset: number, length: number, fail: (problem: string) => never): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd);
    if (!st.isFile() || st.size < offset + length) fail("changed while it was being read");
    const out = new Uint8Array(length);
    for (let at = 0; at < length;) {
      const n = readSync(fd, out, at, length - at, offset + at);
      if (n === 0) fail("changed while it was being read (it ended early)");
      at += n;
    }
    return out;
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    return fail(errnoReason(e, real));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
