// The switchboard command line: dispatches to one command module per verb.

import type { Runtime } from "../host.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { describeFailure } from "./failure.ts";

/** The verbs, each loaded only when used: a client need not load the server, and a process
 * under a tight open-file limit starts (Node reads a module graph's files all at once). */
const commands: readonly { name: string; summary: string; load(): Promise<Command> }[] = [
  {
    name: "serve",
    summary: "run a service (echo, discard, daytime, chargen, time, app)",
    load: async () => (await import("./serve.ts")).serveCommand,
  },
  {
    name: "send",
    summary: "echo client: send text, stdin or frames (one or many connections), print the reply",
    load: async () => (await import("./send.ts")).sendCommand,
  },
  {
    name: "request",
    summary: "app-protocol client: search, echo, JSON or binary request",
    load: async () => (await import("./request.ts")).requestCommand,
  },
  {
    name: "probe",
    summary: "health check: speak a server's protocol and check the answer (the image's HEALTHCHECK)",
    load: async () => (await import("./probe.ts")).probeCommand,
  },
  {
    name: "bench",
    summary: "load generator: echo, stream, connect, hold, framed or app load; latency and throughput",
    load: async () => (await import("./bench.ts")).benchCommand,
  },
];

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
      await host.stdout.write((await findCommand(rest[0]!)).help());
      return 0;
    }
    if (verb === "-V" || verb === "--version" || verb === "version") {
      await host.stdout.write(`switchboard ${VERSION} (${host.runtimeVersion}, ${host.platform}-${host.arch})\n`);
      return 0;
    }
    if (verb.startsWith("-") && verb !== "-") {
      throw new UsageError(`unknown option "${verb.split("=")[0]}"`);
    }
    const found = await findCommand(verb);
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

function findCommand(name: string): Promise<Command> {
  const entry = commands.find((c) => c.name === name);
  if (!entry) throw new UsageError(`unknown command "${name}"`);
  return entry.load();
}
