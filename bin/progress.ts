/**
 * Progress lines for long commands (convert, compile, verify, trace): one line per stage on
 * stderr, `detml <command>: <stage> 3.4 s (<detail>)`, printed when the stage ends and only if it
 * took at least a second, so short runs stay quiet; nothing with --json (stdout then holds one
 * JSON object and stderr only errors). Work is synchronous, so a line cannot appear while its
 * stage runs: a stage is reported as it ends, or, for a callback-driven pipeline (the compiler's
 * `onStage`), as the next one begins.
 */

/** Stages shorter than this are not reported. */
const REPORT_MS = 1000;

export class Progress {
  private current?: { name: string; started: number };

  constructor(private readonly command: string, private readonly enabled: boolean, private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  /** Start stage `name`, ending the current one (reported without a detail). */
  begin(name: string): void {
    this.end();
    this.current = { name, started: performance.now() };
  }

  /** End the current stage; reported if it was long, with `detail` (sizes, counts). */
  end(detail?: string): void {
    const c = this.current;
    this.current = undefined;
    if (!c) return;
    const ms = performance.now() - c.started;
    if (this.enabled && ms >= REPORT_MS) this.write(`detml ${this.command}: ${c.name} ${(ms / 1000).toFixed(1)} s${detail ? ` (${detail})` : ""}`);
  }

  /** Run one stage: `run()`, then its line with `detail(result)` if it was long. */
  stage<T>(name: string, run: () => T, detail?: (result: T) => string): T {
    this.begin(name);
    const result = run();
    this.end(detail?.(result));
    return result;
  }
}

/** The progress reporter of a command: silent with --json. */
export function progressFor(command: string, args: { json?: boolean }): Progress {
  return new Progress(command, !args.json);
}

/** Bytes as a short size for progress details (KiB/MiB/GiB). */
export function sizeText(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
