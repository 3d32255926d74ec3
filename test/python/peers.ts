// Start the Python interop peers (standard library only) from the Node test driver.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PYTHON_DIR = fileURLToPath(new URL(".", import.meta.url));
export const PYTHON = process.env.PYTHON ?? "python3";

/** True when a Python 3 interpreter can run the peers. */
export function hasPython(): boolean {
  const r = spawnSync(PYTHON, ["-c", "import sys, selectors, struct, json; sys.exit(sys.version_info[0] != 3)"]);
  return r.status === 0;
}

export interface PythonServer {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Starts app_server.py on 127.0.0.1, port 0; resolves once it printed its port. */
export function startPythonServer(args: string[] = [], timeoutMs = 10_000): Promise<PythonServer> {
  const child = spawn(PYTHON, ["-B", "-u", `${PYTHON_DIR}app_server.py`, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const exited = new Promise<void>((r) => child.on("close", () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`python server did not start: ${out}${err}`));
    }, timeoutMs);
    child.on("error", reject);
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[1]),
        log: () => out + err,
        stop: async () => {
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(t);
        },
      });
    });
    void exited.then(() => reject(new Error(`python server exited early: ${out}${err}`)));
  });
}

export interface PythonRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the Python clients to completion (bounded). */
export function runPython(script: string, args: string[], timeoutMs = 20_000): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-B", `${PYTHON_DIR}${script}`, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
