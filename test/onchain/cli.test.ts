/**
 * The on-chain commands through the compiled CLI (dist/bin/detml.js, built by `npm test`; built
 * here if missing), each in its own process as a user runs them: `detml chain --json` starts
 * anvil and deploys, `register` prints the module's id, a cheating `submit --wait` defends its
 * wrong claim while `watch --once` challenges it, and the watcher wins the game and the bond;
 * SIGTERM stops the chain and its anvil. The one-line errors: no deployment file, `--chain local`
 * for a separate process, a bad chain URL.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { watchCommand } from "../../bin/commands/watch.js";
import { moduleIdOfBytes, toHex } from "../../vm/index.js";
import { loadFixture } from "../dispute/fixtures.js";

const REPO = resolve(import.meta.dirname, "../..");
const CLI = join(REPO, "dist/bin/detml.js");
const INPUT = join(REPO, "fixtures/data/mlp_input.npy");
const dir = mkdtempSync(join(tmpdir(), "detml-onchain-cli-"));
const model = join(dir, "mlp.wasm");
const { wasm } = loadFixture("mlp").fixture;
writeFileSync(model, wasm);
const deployment = join(dir, "chain.json");

const children: ChildProcess[] = [];
// SIGTERM, not SIGKILL: `detml chain` stops its anvil on SIGTERM, a killed one would leave it running.
afterAll(async () => {
  await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => {
    c.once("exit", r);
    c.kill("SIGTERM");
    setTimeout(() => c.kill("SIGKILL"), 5000).unref();
  })));
});

beforeAll(() => {
  if (!existsSync(join(REPO, "dist/bin/commands/watch.js"))) execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO, stdio: "inherit" });
});

/** Start `detml ...args` and collect its output; `line(re)` resolves with the first stdout line matching. */
function start(...args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir });
  children.push(child);
  let stdout = "";
  let stderr = "";
  const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.splice(0)) {
      const hit = stdout.split("\n").find((l) => w.re.test(l));
      if (hit) w.resolve(hit);
      else waiters.push(w);
    }
  });
  child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child, exited,
    output: () => ({ stdout, stderr }),
    line: (re: RegExp) => new Promise<string>((r) => {
      const hit = stdout.split("\n").find((l) => re.test(l));
      if (hit) r(hit);
      else waiters.push({ re, resolve: r });
    }),
  };
}

async function finished(p: ReturnType<typeof start>) {
  const code = await p.exited;
  return { code, ...p.output() };
}

describe("detml chain, register, submit, watch (anvil)", () => {
  test("a cheating submitter defends its claim, the watcher challenges it and wins; SIGTERM stops the chain", async () => {
    const chain = start("chain", "--json", "--out", deployment);
    const info = JSON.parse(await chain.line(/^\{/)) as { url: string; chainId: number; referee: string; params: { challengeBlocks: number } };
    expect(info.chainId).toBe(31337);
    expect(info.params.challengeBlocks).toBe(20);

    const registered = await finished(start("register", model, "--deployment", deployment, "--json"));
    expect(registered.code, registered.stderr).toBe(0);
    expect(JSON.parse(registered.stdout)).toMatchObject({ model_id: toHex(moduleIdOfBytes(wasm)), registered: true });

    const submit = start("submit", model, "--input", INPUT, "--cheat", "output", "--wait", "--deployment", deployment);
    await submit.line(/^claim 1: result \(dishonest: output\)/);
    const watched = await finished(start("watch", "--model", model, "--once", "--json", "--deployment", deployment));
    expect(watched.code, watched.stderr).toBe(0);
    const events = watched.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; detail?: string });
    expect(events.filter((e) => e.event === "challenge")).toHaveLength(1);
    expect(events.some((e) => e.event === "move" && e.detail?.startsWith("choose"))).toBe(true);
    expect(events.find((e) => e.event === "game-over")?.detail).toMatch(/^challenger won/);
    const submitted = await finished(submit);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).toMatch(/move +claim 1 game 1: prove/);
    expect(submitted.stdout).toMatch(/claim 1: rejected$/m);

    chain.child.kill("SIGTERM");
    expect(await chain.exited).toBe(0);
    const probe = await fetch(info.url, { method: "POST", body: "{}" }).then(() => "up", () => "down");
    expect(probe).toBe("down");
  }, 90_000);
});

describe("one-line errors of the on-chain commands", () => {
  const watch = (args: Record<string, unknown>) => watchCommand.handler!({ _: [], $0: "detml", model, json: false, once: true, ...args } as never);

  test("no deployment file and no --referee: run detml chain or pass --referee", () => {
    const r = spawnSync(process.execPath, [CLI, "watch", "--model", model, "--once"], { cwd: dir, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^detml watch: error: no Referee: run detml chain \(it writes detml-chain.json\) or pass --referee 0x\.\.\.\n$/);
  });

  test("--chain local is refused for a separate process, and a bad URL is named", async () => {
    await expect(watch({ chain: "local" })).rejects.toThrow(/^--chain local is an in-process chain .*detml dispute --chain local/);
    const referee = "0x" + "11".repeat(20);
    await expect(watch({ chain: "not-a-url", referee })).rejects.toThrow(/^bad chain "not-a-url": expected local, anvil or an http\(s\):\/\/ URL/);
    await expect(watch({ chain: "http://127.0.0.1:9", referee })).rejects.toThrow(/^no answer from the chain at http:\/\/127\.0\.0\.1:9 \(eth_chainId\)/);
  });
});
