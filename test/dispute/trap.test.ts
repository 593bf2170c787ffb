/**
 * Runs that trap: a model whose second op (a Gather) traps on an out-of-range index. Such a run
 * has no result, so an honest submitter has nothing to claim (a clear error), and a dishonest
 * submitter who claims a result anyway (denying the trap, lying about any op before or after it,
 * at any round, at random, or stalling) always loses to the honest challenger, whose view holds
 * the trapped-run hash after the trap. The same game on an input that does not trap is the
 * control: there the submitter's claim is the truth.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test, vi } from "vitest";
import { disputeCommand } from "../../bin/commands/dispute.js";
import { compile } from "../../compiler/compile.js";
import { HonestView, runDispute, type Cheat } from "../../dispute/index.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { writeNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { packTensors } from "../../runtime-wasm/abi.js";
import { orderInputs } from "../../runtime-wasm/runtime.js";
import { Session, trappedRunHash } from "../../vm/index.js";
import { Rng } from "../helpers/random.js";

/** x[1,8] -> MatMul+Relu -> Gather(axis 1, idx[2]) -> Add -> y[1,2]: segments load_inputs, op_0..op_2, store_outputs. */
function trapModel(): { wasm: Uint8Array; pack: (idx: number[]) => Uint8Array } {
  const rng = new Rng(5);
  const g = new GraphBuilder();
  const x = g.input("x", [1, 8]);
  const idx = g.input("idx", [2], 0);
  const h = g.op("Relu", [g.op("MatMul", [x, g.constant("w", Array.from({ length: 64 }, () => rng.normal() * 0.3), [8, 8])])[0]])[0];
  const picked = g.op("Gather", [h, idx], { axis: 1 }, { name: "pick" })[0];
  g.output(g.op("Add", [picked, g.constant("b", [0.5, -0.5], [2])], {}, { outputs: ["y"] })[0]);
  const { wasm, manifest } = compile(g.build());
  const xs = Tensor.fromFloat(Array.from({ length: 8 }, (_, i) => i / 8 - 0.4), [1, 8], 16);
  return { wasm, pack: (ids) => packTensors(manifest.inputs, orderInputs(manifest.inputs, { x: xs, idx: Tensor.fromInts(ids, [2]) })) };
}

const model = trapModel();
const trapping = new HonestView(new Session(model.wasm, model.pack([1, 9]), { snapshotEvery: 64 }));
const fine = new HonestView(new Session(model.wasm, model.pack([1, 7]), { snapshotEvery: 64 }));

describe("disputes over a run that traps", () => {
  test("the run traps in the Gather op; the honest view holds the trapped-run hash after it", () => {
    const trap = trapping.trapSegment!;
    expect(trapping.session.mod.segments[trap].export).toBe(`op_${trap - 1}`);
    expect(trap).toBeLessThan(trapping.segments - 1);
    const after = trappedRunHash(trapping.finalState(trap));
    for (let k = trap + 1; k <= trapping.segments; k++) expect(trapping.boundaryHash(k)).toEqual(after);
    expect(fine.trapSegment).toBeUndefined();
  });

  test("an honest submitter has no result to claim", () => {
    expect(() => runDispute(trapping)).toThrow("the run traps in segment 2 (op_1: unreachable), so an honest submitter has no result to claim");
    expect(() => runDispute(trapping, { cheat: { kind: "output" }, cheatSide: "challenger" })).toThrow(/no result to claim/);
    expect(() => trapping.boundary(5)).toThrow(/boundary 5 does not exist .*segment 2 \(op_1\) traps .*so the run has no result/);
  });

  test("every dishonest submitter claiming a result for it loses to the honest challenger", () => {
    const rng = new Rng(17);
    const cheats: Cheat[] = [
      { kind: "output" }, { kind: "op", op: 1 }, { kind: "op", op: 2 }, { kind: "op", op: 4 }, { kind: "step", step: 3 },
      { kind: "round", round: 1 }, { kind: "round", round: 3 }, { kind: "stall", move: 2 },
    ];
    for (let i = 0; i < 60; i++) cheats.push({ kind: "random", seed: rng.int(1, 1 << 30) });
    for (const [i, cheat] of cheats.entries()) {
      const degree = [2, 3, 4, 8][i % 4];
      const r = runDispute(trapping, { cheat, params: { degree } });
      const what = `${JSON.stringify(cheat)}, degree ${degree}: ${r.reason}`;
      expect([r.challenged, r.winner, r.conserved], what).toEqual([true, "challenger", true]);
      expect(r.balances.challenger.after - r.balances.challenger.before, what).toBe(1000n);
      if (r.segment !== undefined) expect(r.segment, what).toBeLessThanOrEqual(trapping.trapSegment!);
      // A consistent liar is refuted by a one-step proof (in or before the trapping op); an
      // inconsistent one cannot reveal what it posted and loses by timeout.
      if (["output", "op", "step"].includes(cheat.kind)) expect(r.reason, what).toMatch(/^the proof of step \d+ of segment \d+ reaches/);
    }
  });

  test("control: without the trap the honest submitter's claim stands and a cheater still loses", () => {
    expect(runDispute(fine)).toMatchObject({ challenged: false, winner: "submitter" });
    expect(runDispute(fine, { cheat: { kind: "op", op: 2 } })).toMatchObject({ winner: "challenger", segment: 2 });
  });

  test("detml dispute: a cheater claiming an output for an input that traps loses; with no cheat, a clear error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-trap-"));
    const file = (name: string, bytes: Uint8Array) => (writeFileSync(join(dir, name), bytes), join(dir, name));
    const args = {
      _: [], $0: "detml", model: file("m.wasm", model.wasm), sample: 0, degree: 4, "cheat-side": "submitter", json: true,
      input: [`x=${file("x.npy", writeNpy([1, 8], Float32Array.from({ length: 8 }, (_, i) => i / 8 - 0.4)))}`, `idx=${file("idx.npy", writeNpy([2], Int32Array.from([1, 9])))}`],
    };
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...x: unknown[]) => void lines.push(x.join(" ")));
    try {
      await disputeCommand.handler!({ ...args, cheat: "output" } as never);
      expect(JSON.parse(lines.join("\n"))).toMatchObject({ winner: "challenger", disputed: { op: 2 } });
      await expect((async () => disputeCommand.handler!(args as never))()).rejects.toThrow(/traps in segment 2 \(op_1: unreachable\)/);
    } finally {
      spy.mockRestore();
    }
  });
});
