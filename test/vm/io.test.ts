/**
 * The VM's I/O contract in one place (vm/spec/io.ts): the host-call argument rules that every JS host
 * applies (aligned chunks inside memory, chunk indices below the input's chunk count, arguments
 * read as unsigned 32-bit), input padding, and the one JS WebAssembly host (vm/wasm-host.ts)
 * refusing a bad call with HostCallTrap, the module's trap, on the fast path's WasmRunner too.
 * That the VM traps BAD_HOST_CALL at the same calls is checked in traps.test.ts.
 */
import { describe, expect, test } from "vitest";
import { CHUNK_BYTES, chunkAlign, hostCallRefusal, HOST_CALLS, HOST_MODULE, padInput, READ_INPUT, WRITE_OUTPUT } from "../../vm/index.js";
import { HostCallTrap, isModuleTrap, WasmHost } from "../../vm/wasm-host.js";
import { module, wat } from "./helpers.js";

describe("host-call rules", () => {
  const MEM = 65536;
  test.each([
    [{ call: READ_INPUT, chunk: 0, dst: 0 }, 1, undefined],
    [{ call: READ_INPUT, chunk: 1, dst: 64 }, 2, undefined],
    [{ call: READ_INPUT, chunk: 0, dst: 40 }, 1, "bad host call arguments: read_input(0, 40)"],
    [{ call: READ_INPUT, chunk: 1, dst: 64 }, 1, "bad host call arguments: read_input(1, 64)"],
    [{ call: READ_INPUT, chunk: 0, dst: MEM }, 1, `bad host call arguments: read_input(0, ${MEM})`],
    [{ call: READ_INPUT, chunk: -1, dst: 0 }, 1, "bad host call arguments: read_input(4294967295, 0)"],
    [{ call: WRITE_OUTPUT, src: MEM - CHUNK_BYTES }, 0, undefined],
    [{ call: WRITE_OUTPUT, src: 3 }, 0, "bad host call arguments: write_output(3)"],
    [{ call: WRITE_OUTPUT, src: -32 }, 0, "bad host call arguments: write_output(4294967264)"],
  ] as const)("%o with %i input chunks", (call, chunks, refusal) => {
    expect(hostCallRefusal(call, MEM, chunks)).toBe(refusal);
  });

  test("padding and names: whole chunks; the decoder's two imports are the host calls'", () => {
    expect(padInput(new Uint8Array(33)).length).toBe(64);
    expect(padInput(new Uint8Array(0)).length).toBe(0);
    expect(chunkAlign(1)).toBe(CHUNK_BYTES);
    expect([...HOST_CALLS.keys()]).toEqual([`${HOST_MODULE}.${READ_INPUT}`, `${HOST_MODULE}.${WRITE_OUTPUT}`]);
  });
});

describe("the JS WebAssembly host", () => {
  test("reads input chunks, collects output chunks, and refuses a bad call as the module's trap", () => {
    const wasm = wat(module(`(func (export "copy") (call $read_input (i32.const 1) (i32.const 64)) (call $write_output (i32.const 64)))
      (func (export "bad") (call $read_input (i32.const 2) (i32.const 0)))`));
    const input = Uint8Array.from({ length: 40 }, (_, i) => i + 1);
    const host = new WasmHost(WasmHost.compile(wasm), input);
    host.call("copy");
    // Chunk 1 is bytes 32..39 of the input, zero-padded to 32 bytes.
    expect(Array.from(host.output())).toEqual([...input.subarray(32), ...new Array(24).fill(0)]);
    let err: unknown;
    try {
      host.call("bad");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostCallTrap);
    expect(isModuleTrap(err)).toBe(true);
    expect((err as Error).message).toBe("bad host call arguments: read_input(2, 0)");
    host.reset(new Uint8Array(0));
    expect(host.output().length).toBe(0);
  });
});
