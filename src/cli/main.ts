// The switchboard command line: dispatches to one command module per verb.

import type { Runtime } from "../host.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import { serveCommand } from "./serve.ts";
import { sendCommand } from "./send.ts";
import { requestCommand } from "./request.ts";
import { probeCommand } from "./probe.ts";
import type { Command } from "./command.ts";

const commands: readonly Command[] = [serveCommand, sendCommand, requestCommand, probeCommand];

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `switchboard ${VERSION} — TCP socket server and client toolkit

Usage: switchboard <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Options:
  -h, --help     show help (also after a command: switchboard serve --help)
  -V, --version  print the version

Run 'switchboard <command> --help' for a command's options.
`;
}

/** Run the CLI; resolves with the process exit code (0 ok, 1 failure, 2 usage error). */
export async function runCli(rt: Runtime): Promise<number> {
  const { host } = rt;
  const [verb, ...rest] = host.args;
  try {
    if (verb === undefined || verb === "-h" || verb === "--help" || verb === "help") {
      await host.stdout.write(topHelp());
      return verb === undefined ? 2 : 0;
    }
    if (verb === "-V" || verb === "--version" || verb === "version") {
      await host.stdout.write(`switchboard ${VERSION} (${host.runtimeVersion}, ${host.platform}-${host.arch})\n`);
      return 0;
    }
    const command = commands.find((c) => c.name === verb);
    if (!command) throw new UsageError(`unknown command "${verb}"; try 'switchboard --help'`);
    if (rest.includes("-h") || rest.includes("--help")) {
      await host.stdout.write(command.help());
      return 0;
    }
    return await command.run(rt, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      await host.stderr.write(`switchboard: ${err.message}\n`);
      return 2;
    }
    await host.stderr.write(`switchboard: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
