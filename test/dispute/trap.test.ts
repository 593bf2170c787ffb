/**
 * Runs that trap: a model whose second op (a Gather) traps on an out-of-range index. Such a run
 * has no result: the honest submitter posts a trap claim (the trapped state), which stands
 * against every dishonest challenger, and a dishonest submitter who claims a result anyway
 * (denying the trap, lying about any op before or after it, at any round, at random, or stalling)
 * always loses to the honest challenger, whose view holds the trapped-run hash after the trap.
 * The referee's checks of trap claims and of the `trapped` move are tested here too. The same
 * model on an input that does not trap is the control.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test, vi } from "vitest";
import { disputeCommand } from "../../bin/commands/dispute.js";
import { compile } from "../../compiler/compile.js";
import { HonestView, modelRecordOf, Referee, RefereeError, runDispute, trapClaim, type Cheat } from "../../dispute/index.js";
import { writeNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { packInputs } from "../../abi/tensors.js";
import { Session, Status, trappedRunHash } from "../../vm/index.js";
import { buildPickModel } from "../helpers/models.js";
import { Rng } from "../helpers/random.js";

/** buildPickModel (test/helpers/models.ts): segments load_inputs, op_0..op_2 (op_1 the Gather), store_outputs. */
function trapModel(): { wasm: Uint8Array; pack: (idx: number[]) => Uint8Array } {
  const { wasm, manifest } = compile(buildPickModel());
  const xs = Tensor.fromFloat(Array.from({ length: 8 }, (_, i) => i / 8 - 0.4), [1, 8], 16);
  return { wasm, pack: (ids) => packInputs(manifest.inputs, { x: xs, idx: Tensor.fromInts(ids, [2]) }) };
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

  test("the honest submitter claims the trap: unchallenged it is accepted, and every dishonest challenger loses", () => {
    expect(runDispute(trapping)).toMatchObject({ challenged: false, winner: "submitter", conserved: true });
    expect(() => trapping.boundary(5)).toThrow(/boundary 5 does not exist .*segment 2 \(op_1\) traps .*so the run has no result/);
    const rng = new Rng(23);
    const cheats: Cheat[] = [{ kind: "output" }, { kind: "op", op: 0 }, { kind: "op", op: 2 }, { kind: "op", op: 4 }, { kind: "step", step: 5 }, { kind: "round", round: 2 }, { kind: "stall", move: 1 }];
    for (let i = 0; i < 40; i++) cheats.push({ kind: "random", seed: rng.int(1, 1 << 30) });
    const reasons = new Set<string>();
    for (const [i, cheat] of cheats.entries()) {
      const degree = [2, 3, 4, 8][i % 4];
      const r = runDispute(trapping, { cheat, cheatSide: "challenger", params: { degree } });
      const what = `${JSON.stringify(cheat)}, degree ${degree}: ${r.reason}`;
      expect([r.challenged, r.winner, r.conserved], what).toEqual([true, "submitter", true]);
      expect(r.balances.submitter.after - r.balances.submitter.before, what).toBe(1000n);
      reasons.add(r.moves.some((mv) => mv.kind === "trapped") ? "trapped move" : r.reason.startsWith("the proof") ? "proof" : "timeout");
    }
    // Both ways the honest trap claim wins: a one-step proof, or opening the trapped state when
    // the challenger disputes an interval whose two ends are the trapped-run hash.
    expect([...reasons].sort()).toEqual(["proof", "timeout", "trapped move"]);
  });

  test("referee: a trap claim must hold a trapped state of this model and input; `trapped` settles only two trapped ends", () => {
    const m = modelRecordOf(trapping.session);
    const s = trapping.finalState(trapping.trapSegment!);
    const r = new Referee({ degree: 2 });
    r.registerModel(m);
    r.deposit("S", 10_000n);
    r.deposit("C", 10_000n);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as RefereeError).code;
      }
      return "accepted";
    };
    const honest = trapClaim(m, s);
    expect(code(() => r.submit("S", { ...honest, trapState: { ...s, status: Status.HALTED } }, 1))).toBe("BAD_CLAIM");
    expect(code(() => r.submit("S", { ...honest, trapState: { ...s, segment: m.segments } }, 1))).toBe("BAD_CLAIM");
    expect(code(() => r.submit("S", { ...honest, inputChunks: honest.inputChunks + 1 }, 1))).toBe("BAD_CLAIM");
    expect(code(() => r.submit("S", { ...honest, trapState: { ...s, step: s.step + 1 } }, 1))).toBe("BAD_CLAIM");
    // Against the trap claim, a challenger disputes boundaries 3..4, which are both the trapped-run hash.
    const id = r.submit("S", honest, 1);
    const g = r.challenge(id, "C", 2);
    const T = trappedRunHash(s);
    r.move(g, "S", { kind: "bisect", hashes: [T] }, 3); // boundaries 0..5 split at 2
    r.move(g, "C", { kind: "choose", index: 1 }, 4); // [2, 5]
    r.move(g, "S", { kind: "bisect", hashes: [T] }, 5); // split at 3
    r.move(g, "C", { kind: "choose", index: 1 }, 6); // [3, 5]
    r.move(g, "S", { kind: "bisect", hashes: [T] }, 7); // split at 4
    r.move(g, "C", { kind: "choose", index: 0 }, 8); // [3, 4]
    expect(r.game(g).phase).toBe("reveal");
    expect(code(() => r.move(g, "S", { kind: "trapped", state: { ...s, status: Status.HALTED } }, 9))).toBe("BAD_FORMAT");
    expect(code(() => r.move(g, "S", { kind: "trapped", state: { ...s, pc: s.pc + 1 } }, 9))).toBe("HASH_MISMATCH");
    r.move(g, "S", { kind: "trapped", state: s }, 9);
    expect(r.game(g)).toMatchObject({ phase: "over", winner: "submitter" });
    expect(r.conserved()).toBe(true);
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

  test("detml dispute: a cheater claiming an output for an input that traps loses; the honest trap claim stands", async () => {
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
      lines.length = 0;
      await disputeCommand.handler!(args as never);
      expect(JSON.parse(lines.join("\n"))).toMatchObject({ challenged: false, winner: "submitter", traps: { op: 2, export: "op_1", message: "trapped: unreachable executed" } });
      lines.length = 0;
      await disputeCommand.handler!({ ...args, cheat: "op:1", "cheat-side": "challenger" } as never);
      expect(JSON.parse(lines.join("\n"))).toMatchObject({ challenged: true, winner: "submitter" });
    } finally {
      spy.mockRestore();
    }
  });
});
