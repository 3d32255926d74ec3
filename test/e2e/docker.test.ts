// The real Dockerfile, built with podman from two local bases (no registry is reachable:
// see test/support/container-images.ts) with nothing changed but the two build args, then
// run and checked from the host: echo bytes through a published loopback port, the app
// service with a read-only --data mount under --read-only --cap-drop ALL, a non-root
// process, a healthy HEALTHCHECK, and `podman stop` draining a half-sent request (the
// reply arrives, exit code 0) with the binary as PID 1 and no --init.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeTransport } from "../../adapters/node/transport.ts";
import { decodeJson, jsonMessage } from "../../src/app/content.ts";
import { appEnvelope, encodeMessage } from "../../src/app/envelope.ts";
import { ByteQueue, decodeFrames } from "../../src/codec/index.ts";
import { ROOT, runCli } from "../support/cli.ts";
import { type Bases, ensureBases, npmBun, requireTools, run } from "../support/container-images.ts";
import { exchange, pattern, sameBytes, sleep, waitFor, withTimeout } from "../support/sockets.ts";

const image = `localhost/switchboard-test:${process.pid}`;
const shellFree = `localhost/switchboard-test:${process.pid}-glibc-only`;
const containers: string[] = [];
let bases: Bases;
let dataDir: string;

const podman = (...args: string[]) => run("podman", args).trim();
const inspect = (name: string, format: string) => podman("inspect", "--format", format, name);

/** `podman run -d` the image with `args`, publish `port` on a free loopback port, wait for "listening". */
async function startContainer(
  opts: string[],
  port: number,
  args: string[] = [],
  from = image,
): Promise<{ name: string; hostPort: number }> {
  const name = `switchboard-test-${process.pid}-${containers.length}`;
  containers.push(name);
  podman("run", "-d", "--name", name, "-p", `127.0.0.1::${port}`, ...opts, from, ...args);
  await until(() => {
    if (inspect(name, "{{.State.Status}}") === "exited") throw new Error(`${name} exited:\n${logs(name)}`);
    return logs(name).includes("listening");
  }, `${name} to log "listening"`);
  const hostPort = Number(/:(\d+)\s*$/.exec(podman("port", name, `${port}/tcp`))?.[1]);
  expect(hostPort).toBeGreaterThan(0);
  return { name, hostPort };
}

/** Poll a condition that runs podman every 100 ms (each check is a process), up to `ms`. */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

function logs(name: string): string {
  const r = spawnSync("podman", ["logs", name], { encoding: "utf8" });
  return r.stdout + r.stderr;
}

/** The container's main process as the host sees it: /proc/PID/status fields. */
function processStatus(name: string): Record<string, string> {
  const pid = inspect(name, "{{.State.Pid}}");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Object.fromEntries(status.split("\n").filter(Boolean).map((l) => l.split(/:\s*/, 2) as [string, string]));
}

/** Runs the image's HEALTHCHECK once; the status podman records. */
function healthcheck(name: string): { code: number | null; status: string } {
  const r = spawnSync("podman", ["healthcheck", "run", name], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status, status: inspect(name, "{{.State.Health.Status}}") };
}

/** The real Dockerfile, with only the two base images changed. */
function buildImage(runtimeImage: string, tag: string): void {
  run("podman", [
    "build",
    "--format",
    "docker", // OCI image configs have no HEALTHCHECK: podman drops it (with a warning) otherwise
    "--layers=false",
    "--build-arg",
    `BUN_IMAGE=${bases.bunImage}`,
    "--build-arg",
    `RUNTIME_IMAGE=${runtimeImage}`,
    "-t",
    tag,
    ROOT,
  ], { timeoutMs: 600_000 });
}

beforeAll(() => {
  requireTools(["podman", "debootstrap", "runc", "nsenter", "ss"]);
  bases = ensureBases();
  buildImage(bases.runtimeImage, image);
  dataDir = mkdtempSync(join(tmpdir(), "switchboard-docker-data-"));
  writeFileSync(join(dataDir, "words.json"), JSON.stringify({ harbour: "where the ships come home ⚓" }));
}, 1_800_000);

afterAll(() => {
  for (const name of containers) spawnSync("podman", ["rm", "-f", "-t", "0", name]);
  spawnSync("podman", ["rmi", "-f", image, shellFree]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

describe("Docker image", () => {
  test("metadata: non-root by number, exec-form entrypoint, echo on 0.0.0.0, ports, stop signal, health check, labels", () => {
    const [info] = JSON.parse(podman("image", "inspect", image)) as {
      Config: Record<string, any>;
      Healthcheck?: { Test: string[] };
      Size: number;
    }[];
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(info!.Config.User).toBe("65532:65532");
    expect(info!.Config.Entrypoint).toEqual(["/usr/local/bin/switchboard"]);
    expect(info!.Config.Cmd).toEqual(["serve", "--listen", "0.0.0.0:7007"]);
    expect(Object.keys(info!.Config.ExposedPorts).sort()).toEqual(
      ["7007/tcp", "7009/tcp", "7013/tcp", "7019/tcp", "7037/tcp", "7065/tcp"],
    );
    expect(info!.Config.StopSignal).toBe("SIGTERM");
    expect(info!.Healthcheck?.Test).toEqual(["CMD", "/usr/local/bin/switchboard", "probe"]); // exec form: no shell
    expect(info!.Config.Labels).toMatchObject({
      "org.opencontainers.image.version": pkg.version,
      "org.opencontainers.image.licenses": pkg.license,
      "org.opencontainers.image.description": expect.any(String),
      "org.opencontainers.image.source": expect.stringMatching(/^https:\/\//),
    });
    // The default build image is the Bun the project pins (and the test base was made from).
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    const bunTag = /^ARG BUN_IMAGE=\S+:(\d+\.\d+\.\d+)\S*$/m.exec(dockerfile)?.[1];
    expect(bunTag).toBe(pkg.devDependencies.bun);
    expect(npmBun().version).toBe(pkg.devDependencies.bun);
    expect(dockerfile).toMatch(/^ARG RUNTIME_IMAGE=\S+$/m);
    console.log(`image ${image}: ${(info!.Size / 1e6).toFixed(1)} MB on the local Debian minbase`);
  });

  test("default command: echo through 127.0.0.1:PORT -> 7007, non-root, healthy; podman stop exits 0", async () => {
    const { name, hostPort } = await startContainer([], 7007);
    expect(logs(name)).toMatch(/listening addr=0\.0\.0\.0:7007 service=echo max_conns=\d+ runtime=bun/);
    const sent = pattern(256 * 1024, 7); // every byte value, far more than one segment
    const r = await withTimeout(
      exchange(nodeTransport, { transport: "tcp", hostname: "127.0.0.1", port: hostPort }, sent),
      20_000,
      "echo through the container",
    );
    expect(r.error).toBeUndefined();
    expect(r.gotEnd).toBe(true);
    expect(sameBytes(r.received, sent)).toBe(true);
    const status = processStatus(name);
    expect(status.Uid!.split(/\s+/)).toEqual(["65532", "65532", "65532", "65532"]);
    expect(status.Gid!.split(/\s+/)).toEqual(["65532", "65532", "65532", "65532"]);
    expect(inspect(name, "{{.State.Pid}}")).not.toBe("0");
    expect(healthcheck(name)).toEqual({ code: 0, status: "healthy" });
    podman("stop", "-t", "10", name);
    expect(inspect(name, "{{.State.ExitCode}}")).toBe("0");
    expect(logs(name)).toMatch(/shutting down signal=SIGTERM[\s\S]*stopped accepted=/);
  }, 120_000);

  test(
    "app service, --data mounted read-only, --read-only --cap-drop ALL: serves, healthy, no capabilities",
    async () => {
      const { name, hostPort } = await startContainer(
        ["--read-only", "--cap-drop", "ALL", "-v", `${join(dataDir, "words.json")}:/data/words.json:ro`],
        7065,
        ["serve", "--service", "app", "--listen", "0.0.0.0:7065", "--data", "/data/words.json"],
      );
      expect(inspect(name, "{{.HostConfig.ReadonlyRootfs}}")).toBe("true");
      const status = processStatus(name);
      expect(status.CapEff).toBe("0000000000000000");
      expect(status.Uid!.split(/\s+/)[0]).toBe("65532");
      const reply = await runCli("node", ["request", `127.0.0.1:${hostPort}`, "search", "harbour"]);
      expect(reply.code, reply.stderr).toBe(0);
      expect(reply.stdout.toString()).toBe("where the ships come home ⚓\n");
      // The health check finds the app service from PID 1's command line by itself.
      expect(healthcheck(name)).toEqual({ code: 0, status: "healthy" });
      podman("stop", "-t", "10", name);
      expect(inspect(name, "{{.State.ExitCode}}")).toBe("0");
    },
    120_000,
  );

  test("the health check follows whatever service the container runs, and fails when it cannot probe", async () => {
    const started = await Promise.all(
      ([["daytime", 7013], ["time", 7037], ["discard", 7009], ["chargen", 7019]] as const).map(
        async ([service, port]) => {
          const c = await startContainer([], port, ["serve", "--service", service, "--listen", `0.0.0.0:${port}`]);
          return { service, ...c };
        },
      ),
    );
    for (const { service, name } of started) {
      expect(healthcheck(name), service).toEqual({ code: 0, status: "healthy" });
    }
    // Port 0 is the OS's choice: the command line does not say where to probe.
    const { name } = await startContainer([], 7007, ["serve", "--listen", "0.0.0.0:0"]);
    expect(healthcheck(name).code).not.toBe(0);
    const probe = spawnSync("podman", ["exec", name, "/usr/local/bin/switchboard", "probe"], { encoding: "utf8" });
    expect(probe.status).toBe(1);
    expect(probe.stderr).toContain("listens on port 0");
  }, 120_000);

  test("needs no shell: on a base with only the C libraries it serves, is healthy and stops with 0", async () => {
    buildImage(bases.glibcOnlyImage, shellFree);
    const sh = spawnSync("podman", ["run", "--rm", "--entrypoint", "/bin/sh", shellFree, "-c", "true"]);
    expect(sh.status, "the base must really have no shell").not.toBe(0);
    const size = Number(podman("image", "inspect", "--format", "{{.Size}}", shellFree));
    console.log(`image ${shellFree}: ${(size / 1e6).toFixed(1)} MB (binary + C libraries only)`);
    const { name, hostPort } = await startContainer(["--read-only", "--cap-drop", "ALL"], 7007, [], shellFree);
    const sent = pattern(64 * 1024, 3);
    const r = await withTimeout(
      exchange(nodeTransport, { transport: "tcp", hostname: "127.0.0.1", port: hostPort }, sent),
      20_000,
      "echo through the shell-free container",
    );
    expect(sameBytes(r.received, sent)).toBe(true);
    expect(processStatus(name).Uid!.split(/\s+/)[0]).toBe("65532");
    expect(healthcheck(name)).toEqual({ code: 0, status: "healthy" });
    podman("stop", "-t", "10", name);
    expect(inspect(name, "{{.State.ExitCode}}")).toBe("0");
  }, 600_000);

  test("podman stop while a request is half sent: the server drains, the reply arrives, exit code 0", async () => {
    const { name, hostPort } = await startContainer(
      ["--read-only", "--cap-drop", "ALL"],
      7065,
      ["serve", "--service", "app", "--listen", "0.0.0.0:7065"],
    );
    const request = encodeMessage(jsonMessage({ action: "echo", value: "still here after SIGTERM" }));
    const half = Math.floor(request.length / 2);
    const socket: Socket = connect({ host: "127.0.0.1", port: hostPort });
    const queue = new ByteQueue();
    const decoder = appEnvelope();
    const replies: unknown[] = [];
    let closed = false;
    socket.on("data", (b) => {
      queue.push(new Uint8Array(b));
      for (const msg of decodeFrames(decoder, queue)) replies.push(decodeJson(msg));
    });
    socket.on("close", () => (closed = true));
    socket.on("error", () => {});
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.write(request.subarray(0, half));
    // The server has read the first half when nothing is left unread in its socket (seen
    // from inside the container's network namespace) and our side has nothing unacknowledged.
    const pid = inspect(name, "{{.State.Pid}}");
    /** Recv-Q and Send-Q of the established connection `ss` finds with `filter` (run by `ss`, argv). */
    const queues = (ss: string[], filter: string) => {
      const out = run(ss[0]!, [...ss.slice(1), "-tnH", "state", "established", filter]).trim();
      const [recvQ, sendQ] = out.split(/\s+/).map(Number);
      return out ? { recvQ, sendQ } : undefined;
    };
    await waitFor(
      () =>
        socket.writableLength === 0 &&
        queues(["ss"], `( sport = :${socket.localPort} )`)?.sendQ === 0 &&
        queues(["nsenter", `--net=/proc/${pid}/ns/net`, "ss"], "( sport = :7065 )")?.recvQ === 0,
      "the server to read the first half",
    );
    const stop = spawn("podman", ["stop", "-t", "10", name], { stdio: "ignore" });
    const stopped = new Promise<number | null>((resolve) => stop.on("close", resolve));
    await until(() => logs(name).includes("shutting down signal=SIGTERM"), "the server to start draining");
    expect(closed).toBe(false); // a connection in mid-request is not cut
    socket.end(request.subarray(half));
    await waitFor(() => closed, "the server to reply and close", 20_000);
    expect(replies).toEqual([{ result: "still here after SIGTERM" }]);
    expect(await withTimeout(stopped, 30_000, "podman stop")).toBe(0);
    expect(inspect(name, "{{.State.ExitCode}}")).toBe("0");
    expect(logs(name)).toMatch(/shutting down signal=SIGTERM connections=1[\s\S]*stopped accepted=1/);
  }, 120_000);
});
