// Local base images for building the real Dockerfile where no registry can be reached:
// a debootstrapped Debian minbase (the RUNTIME_IMAGE) and the same plus the npm-installed
// bun binary (the BUN_IMAGE); and, to prove the image needs no shell, a base holding only
// the C libraries bun links (a stand-in for distroless). All are kept in podman's storage
// under names whose tags say what they were made from, and made again only when missing
// (the first debootstrap takes minutes).
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./cli.ts";

const SUITE = "bookworm";

export interface Bases {
  runtimeImage: string;
  bunImage: string;
  /** Only the C libraries the Bun runtime links (and libgcc_s): no shell, no /bin at all. */
  glibcOnlyImage: string;
}

/** Fails with what is missing when a tool the container tests need is not installed. */
export function requireTools(tools: readonly string[]): void {
  const missing = tools.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(
      `the container tests need ${
        missing.join(", ")
      } (run .ci/system-tools as root, or apt-get install podman buildah debootstrap runc)`,
    );
  }
}

/** Run a command; throw with its stderr when it fails. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): string {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  }
  return r.stdout;
}

const imageExists = (name: string) => spawnSync("podman", ["image", "exists", name]).status === 0;

/** The Debian mirror this machine's apt uses: the `URIs:` of the Debian (not security) entry. */
export function debianMirror(): string {
  const dir = "/etc/apt/sources.list.d";
  const texts = readdirSync(dir).filter((f) => f.endsWith(".sources")).map((f) => readFileSync(join(dir, f), "utf8"));
  for (const entry of texts.join("\n\n").split(/\n\s*\n/)) {
    const uri = /^URIs:\s*(\S+)/m.exec(entry)?.[1];
    const suites = /^Suites:\s*(.+)$/m.exec(entry)?.[1]?.split(/\s+/) ?? [];
    if (uri && suites.includes(SUITE)) return uri;
  }
  const list = spawnSync("sh", ["-c", "cat /etc/apt/sources.list 2>/dev/null"], { encoding: "utf8" }).stdout;
  const line = list.split("\n").find((l) => l.startsWith("deb ") && l.includes(` ${SUITE} `));
  if (line) return line.split(/\s+/)[1]!;
  throw new Error(`no Debian ${SUITE} mirror found in ${dir}/*.sources or /etc/apt/sources.list`);
}

/** The real bun executable behind node_modules/.bin/bun, and its version. */
export function npmBun(): { path: string; version: string } {
  const path = realpathSync(join(ROOT, "node_modules", ".bin", "bun"));
  return { path, version: execFileSync(path, ["--version"], { encoding: "utf8" }).trim() };
}

function minbase(name: string): void {
  const dir = mkdtempSync(join("/var/tmp", "switchboard-minbase-"));
  try {
    run("debootstrap", ["--variant=minbase", SUITE, join(dir, "rootfs"), debianMirror()], { timeoutMs: 900_000 });
    // Streamed: the rootfs is ~200 MB. $1 and $2 keep the paths out of the shell's parsing.
    run("bash", ["-c", 'set -o pipefail; tar -C "$1" -c . | podman import - "$2"', "bash", join(dir, "rootfs"), name], {
      timeoutMs: 300_000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function withBun(base: string, name: string, bunPath: string): void {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-bun-image-"));
  try {
    mkdirSync(join(dir, "ctx"));
    copyFileSync(bunPath, join(dir, "ctx", "bun"));
    writeFileSync(join(dir, "ctx", "Containerfile"), `FROM ${base}\nCOPY --chmod=0755 bun /usr/local/bin/bun\n`);
    run("podman", ["build", "--format", "docker", "--layers=false", "-t", name, join(dir, "ctx")], {
      timeoutMs: 300_000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// What `ldd` says bun needs, plus libgcc_s (glibc loads it at run time), as a tar on stdout.
const LIBS_TAR = `tar -ch $(ldd /usr/local/bin/bun | grep -o '/[^ ]*') ` +
  `$(ldconfig -p | awk '/libgcc_s.so.1/ { print $NF; exit }') 2>/dev/null`;

function glibcOnly(bunImage: string, name: string): void {
  run("bash", [
    "-c",
    'set -o pipefail; podman run --rm "$1" sh -c "$3" | podman import - "$2"',
    "bash",
    bunImage,
    name,
    LIBS_TAR,
  ], { timeoutMs: 300_000 });
}

/** The local bases, made if missing. */
export function ensureBases(): Bases {
  const arch = run("dpkg", ["--print-architecture"]).trim();
  const runtimeImage = `localhost/switchboard-test-minbase:${SUITE}-${arch}`;
  const bun = npmBun();
  const bunImage = `localhost/switchboard-test-bun:${bun.version}-${SUITE}-${arch}`;
  if (!imageExists(runtimeImage)) minbase(runtimeImage);
  if (!imageExists(bunImage)) withBun(runtimeImage, bunImage, bun.path);
  const glibcOnlyImage = `localhost/switchboard-test-glibc:${bun.version}-${SUITE}-${arch}`;
  if (!imageExists(glibcOnlyImage)) glibcOnly(bunImage, glibcOnlyImage);
  return { runtimeImage, bunImage, glibcOnlyImage };
}
