// The release, built once by the real `npm run release` and used the way a user would:
// checksums verified, the linux-x64 executables (Bun and Node) run end to end, the
// linux-arm64 one run under qemu user-mode emulation, and the ones that cannot run here
// (musl, macOS, Windows) checked to be well-formed executables of their platform.
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import { exeInfo } from "../support/exe-format.ts";
import { ROOT, runCli, startServer } from "../support/cli.ts";

const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
// Not build/release: a test run must not replace a release someone built by hand.
const OUT = join(ROOT, "build", "test-release");
const name = (suffix: string) => `switchboard-${version}-${suffix}`;
const path = (suffix: string) => join(OUT, name(suffix));
const EXECUTABLES = [
  "darwin-arm64",
  "darwin-x64",
  "linux-arm64",
  "linux-x64",
  "linux-x64-musl",
  "linux-x64-node",
  "windows-x64.exe",
].map(name);
const RING = "In the caves beneath the Misty Mountains. \u{1f48d}";
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

beforeAll(async () => {
  // A folder used before: a stale release file must go, anything else must stay.
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "switchboard-0.0.0-linux-x64"), "an older release");
  writeFileSync(join(OUT, "notes.txt"), "not ours");
  // npm's own client, as the README says.
  await promisify(execFile)("npm", ["run", "--silent", "release", "--", "--out", OUT], {
    cwd: ROOT,
    timeout: 900_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}, 900_000);

describe("the release folder", () => {
  test("holds the seven executables, named by version, OS and architecture, and a SHA256SUMS of them", () => {
    expect(readdirSync(OUT).sort()).toEqual([...EXECUTABLES, "SHA256SUMS", "notes.txt"].sort());
    expect(readFileSync(join(OUT, "notes.txt"), "utf8")).toBe("not ours");
    const lines = readFileSync(join(OUT, "SHA256SUMS"), "utf8").split("\n");
    expect(lines.pop()).toBe(""); // ends with a newline
    const listed = lines.map((line) => {
      const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
      expect(m, `SHA256SUMS line: ${line}`).not.toBeNull();
      return [m![2]!, m![1]!] as const;
    });
    expect(listed.map(([file]) => file)).toEqual([...EXECUTABLES].sort());
    for (const [file, hash] of listed) expect(hash, file).toBe(sha256(readFileSync(join(OUT, file))));
  });

  test("the README's checks (sha256sum -c --ignore-missing; shasum) pass for a download, fail for a damaged one", () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-sums-"));
    try {
      writeFileSync(join(dir, "SHA256SUMS"), readFileSync(join(OUT, "SHA256SUMS")));
      // A user downloads one binary and the sums file.
      symlinkSync(path("linux-x64"), join(dir, name("linux-x64")));
      const ok = spawnSync("sha256sum", ["-c", "--ignore-missing", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
      expect(ok.error, "needs sha256sum (coreutils)").toBeUndefined();
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toBe(`${name("linux-x64")}: OK\n`);
      writeFileSync(join(dir, name("linux-x64-node")), "not the binary");
      const bad = spawnSync("sha256sum", ["-c", "--ignore-missing", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
      expect(bad.status).not.toBe(0);
      expect(bad.stdout).toContain(`${name("linux-x64-node")}: FAILED`);
      // The README's macOS line: Perl's shasum, which macOS ships, checking the one line.
      const mac = name("darwin-arm64");
      symlinkSync(path("darwin-arm64"), join(dir, mac));
      const shasum = spawnSync("sh", ["-c", `grep ' ${mac}$' SHA256SUMS | shasum -a 256 -c`], {
        cwd: dir,
        encoding: "utf8",
      });
      expect(shasum.status, `needs shasum (perl): ${shasum.stderr}`).toBe(0);
      expect(shasum.stdout).toBe(`${mac}: OK\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("release.mjs refuses --out without a directory, and unknown arguments (exit 2, one line)", async () => {
    const command: [string, string[]] = [process.execPath, [join(ROOT, "adapters/release.mjs")]];
    const r = await runCli("node", ["--out"], { command });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("release: --out needs a directory\n");
    const u = await runCli("node", ["--ouT", "x"], { command });
    expect(u.code).toBe(2);
    expect(u.stderr).toBe('release: unknown argument "--ouT" (usage: release.mjs [--out DIR])\n');
  });
});

describe("every executable is a well-formed executable of the platform in its name", () => {
  const gnuX64 = { format: "elf", machine: "x86-64", interpreter: "/lib64/ld-linux-x86-64.so.2" };
  const macho = { format: "macho", executable: true, dylinker: "/usr/lib/dyld", entryPoint: true, signed: true };
  const expected: [string, object][] = [
    ["linux-x64", gnuX64],
    ["linux-x64-node", gnuX64],
    ["linux-x64-musl", { format: "elf", machine: "x86-64", interpreter: "/lib/ld-musl-x86_64.so.1" }],
    ["linux-arm64", { format: "elf", machine: "aarch64", interpreter: "/lib/ld-linux-aarch64.so.1" }],
    ["darwin-x64", { ...macho, cpu: "x86_64" }],
    ["darwin-arm64", { ...macho, cpu: "arm64" }],
    ["windows-x64.exe", { format: "pe", machine: "x86-64", executable: true, pe32plus: true, subsystem: "console" }],
  ];
  test.each(expected)("%s", (suffix, want) => {
    const info = exeInfo(path(suffix));
    expect(info).toMatchObject(want);
    if (info.format === "elf") expect(["exec", "dyn"]).toContain(info.type);
  });
  test("and a file that is none of them is reported as unknown", () => {
    expect(exeInfo(join(OUT, "SHA256SUMS"))).toEqual({ format: "unknown" });
  });
});

/** The linux-x64 executables run here directly; they serve, and act as their own clients. */
describe.each([
  ["bun", "linux-x64"],
  ["node", "linux-x64-node"],
])("the %s executable (%s)", (runtime, suffix) => {
  const command = (): [string, string[]] => [path(suffix), []];

  test("--version names the version, the runtime and linux-x64", async () => {
    const r = await runCli("node", ["--version"], { command: command() });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(
      new RegExp(`^switchboard ${escape(version)} \\(${runtime} \\d+\\.\\d+\\.\\d+, linux-x64\\)\\n$`),
    );
  });

  test("serves echo, echoes 512 KiB to its own send, and stops cleanly on SIGTERM", async () => {
    const server = await startServer("node", ["--listen", "127.0.0.1:0"], { command: command() });
    try {
      const payload = new Uint8Array(512 * 1024).map((_, i) => (i * 7919) % 251);
      const r = await runCli("node", ["send", server.addrs[0]!], { stdin: payload, command: command() });
      expect(r.code).toBe(0);
      expect(Buffer.compare(r.stdout, payload)).toBe(0);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
    expect(server.log()).toMatch(
      new RegExp(`listening addr=127\\.0\\.0\\.1:\\d+ service=echo max_conns=\\d+ runtime=${runtime}`),
    );
  });

  test("framed echo: send --framing lp:u16 gets each frame back", async () => {
    const server = await startServer("node", ["--framing", "lp:u16", "--listen", "127.0.0.1:0"], {
      command: command(),
    });
    try {
      const r = await runCli("node", ["send", server.addrs[0]!, "--framing", "lp:u16", "one", "two", "three"], {
        command: command(),
      });
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe("one\ntwo\nthree\n");
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  test("serves the app protocol: request search, and a binary request whose digest matches", async () => {
    const server = await startServer("node", ["--service", "app", "--listen", "127.0.0.1:0"], {
      command: command(),
    });
    try {
      const at = server.addrs[0]!;
      const found = await runCli("node", ["request", at, "search", "ring"], { command: command() });
      expect(found.code).toBe(0);
      expect(found.stdout.toString()).toBe(`${RING}\n`);
      const data = new Uint8Array(100_000).map((_, i) => i % 256);
      const bin = await runCli("node", ["request", at, "--binary"], { stdin: data, command: command() });
      expect(bin.code).toBe(0);
      expect(bin.stdout.toString()).toContain(`length=100000 sha256=${sha256(data)} (matches the 100000 bytes sent)`);
      const bad = await runCli("node", ["request", at, "fly", "away"], { command: command() });
      expect(bad.code).toBe(1);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });
});

/** Debian's qemu-user with the arm64 C and C++ libraries (.ci/system-tools installs them). */
describe("the linux-arm64 executable under qemu-aarch64", () => {
  const SYSROOT = "/usr/aarch64-linux-gnu";
  const command = (): [string, string[]] => ["qemu-aarch64", ["-L", SYSROOT, path("linux-arm64")]];

  beforeAll(() => {
    const missing = [
      spawnSync("qemu-aarch64", ["--version"]).error ? "qemu-aarch64 (apt-get install qemu-user)" : "",
      existsSync(`${SYSROOT}/lib/ld-linux-aarch64.so.1`) ? "" : `${SYSROOT}/lib (apt-get install libc6-arm64-cross)`,
      existsSync(`${SYSROOT}/lib/libstdc++.so.6`) ? "" : "arm64 libstdc++ (apt-get install libstdc++6-arm64-cross)",
    ].filter(Boolean);
    if (missing.length) throw new Error(`running the arm64 binary needs: ${missing.join(", ")}`);
  });

  test("--version names linux-arm64", async () => {
    const r = await runCli("node", ["--version"], { command: command(), timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(
      new RegExp(`^switchboard ${escape(version)} \\(bun \\d+\\.\\d+\\.\\d+, linux-arm64\\)\\n$`),
    );
  }, 90_000);

  test("serves echo and echoes to its own send (both emulated), then stops cleanly on SIGTERM", async () => {
    const server = await startServer("node", ["--listen", "127.0.0.1:0"], {
      command: command(),
      startTimeoutMs: 60_000,
    });
    try {
      const payload = new Uint8Array(64 * 1024).map((_, i) => (i * 31) % 253);
      const r = await runCli("node", ["send", server.addrs[0]!], {
        stdin: payload,
        command: command(),
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(Buffer.compare(r.stdout, payload)).toBe(0);
    } finally {
      expect((await server.stop(30_000)).code).toBe(0);
    }
    expect(server.log()).toMatch(/listening addr=127\.0\.0\.1:\d+ service=echo max_conns=\d+ runtime=bun/);
  }, 180_000);

  test("serves the app protocol to the linux-x64 executable's request", async () => {
    const server = await startServer("node", ["--service", "app", "--listen", "127.0.0.1:0"], {
      command: command(),
      startTimeoutMs: 60_000,
    });
    try {
      const r = await runCli("node", ["request", server.addrs[0]!, "search", "ring"], {
        command: [path("linux-x64"), []],
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe(`${RING}\n`);
    } finally {
      expect((await server.stop(30_000)).code).toBe(0);
    }
  }, 180_000);
});
