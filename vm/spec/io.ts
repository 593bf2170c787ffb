/**
 * The VM's input/output contract in one leaf module (docs/abi.md, "Host calls"): the chunk size,
 * the host module and function names, how an input byte stream is padded to whole chunks, and
 * the argument rules of read_input / write_output. The interpreter, the JIT and the one-step
 * verifier keep their own step semantics (they inline these rules for speed and line-by-line
 * auditability); every JS host of a module calls `hostCallRefusal` and every other file takes the
 * constants from here. Imports nothing.
 */

/** Bytes moved by one read_input / write_output host call. */
export const CHUNK_BYTES = 32;
/** Import module of the two host calls. */
export const HOST_MODULE = "detml";
export const READ_INPUT = "read_input";
export const WRITE_OUTPUT = "write_output";
/** "module.name" keys of the two host calls, as the decoder and the lint name imports. */
export const READ_INPUT_IMPORT = `${HOST_MODULE}.${READ_INPUT}`;
export const WRITE_OUTPUT_IMPORT = `${HOST_MODULE}.${WRITE_OUTPUT}`;

/** Round a byte count up to whole chunks. */
export function chunkAlign(bytes: number): number {
  return Math.ceil(bytes / CHUNK_BYTES) * CHUNK_BYTES;
}

/** Input bytes zero-padded to whole chunks, as read_input sees them. */
export function padInput(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(chunkAlign(input.length));
  out.set(input);
  return out;
}

/** One host call with its raw i32 arguments (as the module passed them, signed or not). */
export type HostCall =
  | { call: typeof READ_INPUT; chunk: number; dst: number }
  | { call: typeof WRITE_OUTPUT; src: number };

/**
 * Why the ABI refuses a host call (the module then traps with BAD_HOST_CALL), or undefined when
 * it is allowed. Arguments are read as unsigned 32-bit; a chunk address must be aligned to
 * CHUNK_BYTES and the whole chunk inside memory; read_input's chunk index must be below the
 * input's chunk count.
 */
export function hostCallRefusal(c: HostCall, memoryBytes: number, inputChunks: number): string | undefined {
  if (c.call === READ_INPUT) {
    const chunk = c.chunk >>> 0, dst = c.dst >>> 0;
    const ok = dst % CHUNK_BYTES === 0 && dst + CHUNK_BYTES <= memoryBytes && chunk < inputChunks;
    return ok ? undefined : `bad host call arguments: ${READ_INPUT}(${chunk}, ${dst})`;
  }
  const src = c.src >>> 0;
  const ok = src % CHUNK_BYTES === 0 && src + CHUNK_BYTES <= memoryBytes;
  return ok ? undefined : `bad host call arguments: ${WRITE_OUTPUT}(${src})`;
}
