// How a failed command is reported: the exit code and the one line that says why.
// Shared by main.ts (plain text on stderr) and serve (a JSON log line with --log-format json).

import { UsageError } from "./args.ts";

export interface Failure {
  /** 2 for a usage error, 1 for anything else. */
  code: 1 | 2;
  /** One line, without the "switchboard: " prefix. */
  message: string;
}

/** Replace line breaks and other control characters, so that a message stays one line. */
export function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\s*[\u0000-\u001f\u007f]+\s*/g, " ").trim();
}

/** Where a usage error points the user: the command's help, or the top-level help. */
export function helpHint(command?: string): string {
  return `(see 'switchboard ${command ? `${command} ` : ""}--help')`;
}

export function describeFailure(err: unknown, command?: string): Failure {
  if (err instanceof UsageError) return { code: 2, message: `${oneLine(err.message)} ${helpHint(command)}` };
  return { code: 1, message: oneLine(err instanceof Error ? err.message : String(err)) };
}
