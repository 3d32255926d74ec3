// The switchboard command line: dispatches to one command module per verb.

import type { Runtime } from "../host.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import { serveCommand } from "./serve.ts";
import { sendCommand } from "./send.ts";
import { requestCommand } from "./request.ts";
import { probeCommand } from "./probe.ts";
import { benchCommand } from "./bench.ts";
import type { Command } from "./command.ts";
import { describeFailure } from "./failure.ts";

const commands: readonly Command[] = [serveCommand, sendCommand, requestCommand, probeCommand, benchCommand];

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `switchboard ${VERSION} — TCP socket server and client toolkit

Usage: switchboard <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Options:
  -h, --help     show help (also after a command: switchboard serve --help)
  -V, --version  print the version

Run 'switchboard <command> --help' or 'switchboard help <command>' for a command's options.
Options take --name VALUE or --name=VALUE; short ones bundle (-nc 2 is -n -c 2).
Sizes: 65536, 64KiB/1MiB/1GiB (powers of 2), 64KB/1MB/1GB (powers of 10).
Durations: 500ms, 5s, 2m, 1h; 0 disables a timeout.
Exit status: 0 success, 1 failure, 2 usage error (one line on stderr).
`;
}

/** Run the CLI; resolves with the process exit code (0 ok, 1 failure, 2 usage error). */
export async function runCli(rt: Runtime): Promise<number> {
  const { host } = rt;
  const [verb, ...rest] = host.args;
  let command: Command | undefined;
  try {
    if (verb === undefined) {
      await host.stderr.write(topHelp()); // a script that forgot the command must not read help as output
      return 2;
    }
    if (verb === "-h" || verb === "--help") {
      await host.stdout.write(topHelp());
      return 0;
    }
    if (verb === "help") {
      if (rest.length === 0) {
        await host.stdout.write(topHelp());
        return 0;
      }
      if (rest.length > 1) throw new UsageError(`help takes one command, not ${rest.length} arguments`);
      await host.stdout.write(findCommand(rest[0]!).help());
      return 0;
    }
    if (verb === "-V" || verb === "--version" || verb === "version") {
      await host.stdout.write(`switchboard ${VERSION} (${host.runtimeVersion}, ${host.platform}-${host.arch})\n`);
      return 0;
    }
    if (verb.startsWith("-") && verb !== "-") {
      throw new UsageError(`unknown option "${verb.split("=")[0]}"`);
    }
    const found = findCommand(verb);
    if (rest.includes("-h") || rest.includes("--help")) {
      await host.stdout.write(found.help());
      return 0;
    }
    command = found;
    return await found.run(rt, rest);
  } catch (err) {
    const f = describeFailure(err, command?.name);
    await host.stderr.write(`switchboard: ${f.message}\n`);
    return f.code;
  }
}

function findCommand(name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"`);
  return command;
}
