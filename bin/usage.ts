/**
 * The CLI's own rough edges, kept out of bin/detml.ts: detml's version (read from the
 * package.json that ships beside the compiled bin file, so `detml --version` names detml's
 * version wherever it is installed, not that of the project around it) and usageError, which
 * turns yargs' multi-line parser messages (missing positional, missing or unknown option,
 * invalid choice, unknown command) into the CLI's one error line:
 * `detml compile: error: missing argument <model> (see detml compile --help)`; errorMessage
 * words Node's raw file errors (ENOENT of a path in a missing folder) by the path at fault.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** detml's version: the nearest package.json named "detml" above this file (dist/bin or bin). */
export function detmlVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "detml" && pkg.version) return pkg.version;
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

/** Rewrites one yargs failure message for the command line `argv`, given every command's yargs spec ("compile <model>"). */
export function usageError(message: string, argv: readonly string[], commandSpecs: readonly string[]): string {
  const specs = new Map(commandSpecs.map((s) => [s.split(" ")[0], s]));
  const word = argv.find((a) => !a.startsWith("-"));
  const spec = word === undefined ? undefined : specs.get(word);
  const who = spec === undefined ? "detml" : `detml ${word}`;
  return `${who}: error: ${describe(message.trim(), argv, spec, word)} (see ${who} --help)`;
}

function describe(message: string, argv: readonly string[], spec: string | undefined, word: string | undefined): string {
  const flag = (name: string) => (argv.includes(`-${name}`) || name.length === 1 ? `-${name}` : `--${name}`);
  let m: RegExpMatchArray | null;
  if ((m = message.match(/^Not enough non-option arguments: got (\d+)/))) {
    const positionals = (spec ?? "").split(" ").slice(1).filter((p) => p.startsWith("<"));
    const missing = positionals.slice(Number(m[1]));
    return missing.length > 0 ? `missing argument ${missing.join(" ")}` : "missing argument";
  }
  if ((m = message.match(/^Missing required arguments?: (.*)$/))) return `missing option ${m[1].split(/,\s*/).map((n) => `--${n}`).join(", ")}`;
  if (spec === undefined && word !== undefined && /^Unknown argument/.test(message)) return `unknown command '${word}'`;
  if ((m = message.match(/^Unknown arguments?: (.*)$/))) {
    const names = m[1].split(/,\s*/);
    return names.map((n) => (argv.some((a) => a === `-${n}` || a.startsWith(`--${n}`)) ? `unknown option ${flag(n)}` : `unexpected argument '${n}'`)).join(", ");
  }
  if ((m = message.match(/^Invalid values:\s*Argument: (\S+), Given: (.*), Choices: (.*)$/s))) return `--${m[1]} ${m[2]}: must be one of ${m[3].trim()}`;
  if ((m = message.match(/^Did you mean (\S+)\?$/))) return `unknown command '${word}' (did you mean ${m[1]}?)`;
  return message.replace(/\s*\n\s*/g, "; ");
}

/** The message of an error a command threw; Node's file errors name their path and its missing folder. */
export function errorMessage(err: Error): string {
  const { code, path } = err as NodeJS.ErrnoException;
  if (code === "ENOENT" && path !== undefined && !existsSync(dirname(path))) return `${path}: the folder ${dirname(path)}/ does not exist`;
  if (code !== undefined && path !== undefined) return `${path}: ${err.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "")}`;
  return err.message;
}
