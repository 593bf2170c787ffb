/**
 * Starts and stops anvil, the real JSON-RPC dev node: `startAnvil()` runs it on 127.0.0.1 at a
 * free port with `--hardfork osaka --enable-tx-gas-limit --silent` (anvil 1.7 enforces the
 * EIP-7825 cap of 2^24 gas per transaction only with `--enable-tx-gas-limit`, even under osaka),
 * waits until it answers eth_chainId and returns `{ url, pid, stop() }`. The binary is the native
 * one of the installed @foundry-rs/anvil platform package (node_modules/.bin/anvil is a Node
 * wrapper that spawns it: stopping the wrapper by PID could leave the node running), or
 * `options.binary`. Every anvil started here is killed when the process exits or is ended by
 * SIGINT / SIGTERM / SIGHUP, and a missing binary is a one-line error saying what to install.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

export interface AnvilOptions {
  /** Path of the anvil executable; default: the binary of the installed @foundry-rs/anvil. */
  binary?: string;
  /** Port to listen on; default: a free port. */
  port?: number;
  /** Extra command-line arguments (e.g. ["--block-time", "1"]). */
  args?: readonly string[];
  /** How long to wait for the node to answer, in ms (default 10,000). */
  startTimeoutMs?: number;
}

export interface AnvilNode {
  /** The node's HTTP JSON-RPC endpoint. */
  readonly url: string;
  readonly pid: number;
  /** Kills the node (SIGTERM, then SIGKILL after 2 s) and resolves when it has exited. */
  stop(): Promise<void>;
}

const ARCH: Partial<Record<string, string>> = { x64: "amd64", arm64: "arm64" };

/** The native anvil of the installed @foundry-rs/anvil-<platform>-<arch> package, if any. */
export function findAnvilBinary(): string | undefined {
  const arch = ARCH[process.arch];
  if (arch === undefined) return undefined;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
    const binary = join(dir, "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no free port"))));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Kills every anvil started here when this process ends: on exit, and on SIGINT / SIGTERM /
 * SIGHUP, which end Node without an exit event (a test runner stops its workers with SIGTERM).
 * The signal is then raised again, so the process still ends as it would have, unless the
 * program handles that signal itself.
 */
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of running) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

async function answersChainId(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    return typeof ((await response.json()) as { result?: unknown }).result === "string";
  } catch {
    return false;
  }
}

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilNode> {
  const binary = options.binary ?? findAnvilBinary();
  if (binary === undefined) throw new Error("anvil not found: install @foundry-rs/anvil (npm install --save-dev @foundry-rs/anvil) or pass its path");
  const port = options.port ?? await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(binary, [
    "--host", "127.0.0.1", "--port", String(port), "--hardfork", "osaka", "--enable-tx-gas-limit", "--silent", ...(options.args ?? []),
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once("exit", () => { running.delete(child); resolve(); }));
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  running.add(child);
  killAllOnExit();

  const stop = async () => {
    // No pid: the spawn itself failed, there is nothing to stop.
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  let failure: Error | undefined;
  void spawnError.then((e) => { failure = e; });
  while (failure === undefined && child.exitCode === null && Date.now() < deadline) {
    if (await answersChainId(url)) return { url, pid: child.pid as number, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  const reason = failure?.message ?? (child.exitCode !== null ? `exited with code ${child.exitCode}` : "no answer to eth_chainId in time");
  throw new Error(`anvil (${binary}) did not start at ${url}: ${reason}${stderr.trim() ? `: ${stderr.trim().split("\n")[0]}` : ""}`);
}
