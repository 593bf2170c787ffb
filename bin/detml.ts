#!/usr/bin/env node
/**
 * The detml command line. This file only wires yargs to the command modules in bin/commands;
 * each command parses its arguments and calls the library. Every failure is printed as one
 * line, `detml <command>: error: <message>`, with exit code 1 (`--debug` adds the stack):
 * errors of the library as thrown (Node's file errors worded by errorMessage), argument errors
 * of the parser rewritten by usageError (bin/usage.ts). `--version` is detml's own version,
 * read from the package.json beside this file, not from the project it is installed in.
 */
import yargs, { type CommandModule } from "yargs";
import { hideBin } from "yargs/helpers";
import { compileCommand, lintCommand } from "./commands/compile.js";
import { convertCommand } from "./commands/convert.js";
import { inspectCommand } from "./commands/inspect.js";
import { runCommand } from "./commands/run.js";
import { verifyCommand } from "./commands/verify.js";
import { traceCommand } from "./commands/trace.js";
import { proveCommand } from "./commands/prove.js";
import { checkProofCommand } from "./commands/check-proof.js";
import { disputeCommand } from "./commands/dispute.js";
import { chainCommand } from "./commands/chain.js";
import { registerCommand } from "./commands/register.js";
import { submitCommand } from "./commands/submit.js";
import { serveCommand } from "./commands/serve.js";
import { watchCommand } from "./commands/watch.js";
import { generateCommand } from "./commands/generate.js";
import { detmlVersion, errorMessage, usageError } from "./usage.js";

// Each command module has its own argument type; the list only needs them as command modules.
const commands: readonly CommandModule<object, any>[] = [convertCommand, compileCommand, runCommand, inspectCommand, verifyCommand, lintCommand, traceCommand, proveCommand, checkProofCommand, disputeCommand, chainCommand, registerCommand, submitCommand, serveCommand, watchCommand, generateCommand];

const argv = hideBin(process.argv);
const cli = yargs(argv)
  .scriptName("detml")
  .usage("$0 <command> [options]\n\nDeterministic fixed-point inference: convert, inspect, run, compile and prove neural networks.")
  .option("debug", { type: "boolean", default: false, describe: "Print stack traces on errors" })
  .strict()
  .demandCommand(1, "no command given")
  .recommendCommands()
  .help()
  .alias("h", "help")
  .version(detmlVersion())
  .wrap(Math.min(110, process.stdout.columns || 100))
  .fail((msg, err, y) => {
    if (err) throw err;
    if (argv.length === 0) {
      y.showHelp();
      process.exit(1);
    }
    process.stderr.write(`${usageError(msg, argv, commands.map((c) => String(c.command)))}\n`);
    process.exit(1);
  });
for (const c of commands) cli.command(c);

try {
  await cli.parseAsync();
} catch (e) {
  const err = e as Error;
  const cmd = argv.find((a) => !a.startsWith("-")) ?? "detml";
  process.stderr.write(`detml ${cmd}: error: ${errorMessage(err)}\n`);
  if (argv.includes("--debug")) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}
