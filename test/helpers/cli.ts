/**
 * Running a CLI command's handler in-process for tests: the arguments yargs would pass (with the
 * common defaults), and what the handler printed with console.log, joined by newlines. Errors
 * propagate as the handler throws them (the CLI's entry point turns them into one line, exit 1).
 */
import { vi } from "vitest";

export async function runHandler(command: { handler: (args: never) => unknown }, args: Record<string, unknown>): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...x: unknown[]) => void lines.push(x.join(" ")));
  try {
    await command.handler({ _: [], $0: "detml", sample: 0, json: false, ...args } as never);
  } finally {
    spy.mockRestore();
  }
  return lines.join("\n");
}
