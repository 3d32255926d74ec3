// The status page in a real headless Chromium (Debian's chromium, driven by playwright-core
// with the system browser: no browser download), on every runtime: it loads without
// console errors, shows the open-connection count, and the number follows connections
// the test opens and closes. A screenshot per runtime is left as a test artifact in
// $SB_TEST_OUTPUT (default: the temp directory's switchboard-test-output/). A stop signal
// shows on the open page, and the server exits with the page still polling. With --workers
// the page lists the workers.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { CLI_RUNTIMES, type CliRuntime, startServer } from "../support/cli.ts";
import { adminAddr, pollUntil } from "../support/admin.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = process.env.SB_TEST_OUTPUT ?? join(tmpdir(), "switchboard-test-output");

let context: BrowserContext;
let profile: string;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `this test needs Chromium at ${CHROMIUM} (Debian package "chromium"; .ci/system-tools installs it)`,
    );
  }
  profile = mkdtempSync(join(tmpdir(), "sb-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 390, height: 844 }, // a phone: the page must be usable there
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

/** The open-connection count as the page shows it now. */
const shown = (page: Page) => page.locator("#open-count").innerText();

describe.each(CLI_RUNTIMES)("status page on %s", (runtime: CliRuntime) => {
  test("loads without console errors, shows the open-connection count and follows it", async () => {
    const server = await startServer(runtime, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--unready-delay",
      "60s",
    ]);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    const socks: net.Socket[] = [];
    try {
      const addr = await adminAddr(server);
      const response = await page.goto(`http://${addr}/`);
      expect(response?.status()).toBe(200);
      await pollUntil(() => shown(page), (t) => t === "0", "the page to show 0 open connections");
      expect(await page.locator("#ready").innerText()).toBe("ready");
      expect(await page.locator("#about").innerText()).toContain(runtime);
      expect(await page.locator("#listeners").innerText()).toContain(`127.0.0.1:${server.port}`);

      for (let i = 0; i < 3; i++) socks.push(await connect(server.port));
      await pollUntil(() => shown(page), (t) => t === "3", "the page to show 3 open connections", 15_000);
      expect(await page.locator("#top tbody tr").count()).toBe(3);
      await page.screenshot({ path: join(ARTIFACTS, `status-page-${runtime}.png`), fullPage: true });

      for (const s of socks.splice(0)) s.destroy();
      await pollUntil(() => shown(page), (t) => t === "0", "the page to show 0 again", 15_000);
      expect(await page.locator("#closed").innerText()).toBe("3");
      // Nothing wider than the phone's screen: no sideways scrolling.
      const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
      expect(overflow).toBeLessThanOrEqual(0);
      expect(problems).toEqual([]);

      // A stop signal shows on the open page as "not ready" (the unready delay holds the
      // server up); when the server is gone the page says so instead of freezing.
      server.child.kill("SIGTERM");
      const badge = () => page.locator("#ready").innerText();
      await pollUntil(badge, (t) => t === "not ready: draining", "the page to show not ready", 15_000);
      let exited = false;
      void server.terminated.then(() => (exited = true));
      await pollUntil(
        () => {
          if (!exited) server.child.kill("SIGTERM"); // a second signal (not a repeat within 0.5 s) ends the delay
          return Promise.resolve(exited);
        },
        (e) => e,
        "the server to exit with the page open",
        20_000,
      );
      expect((await server.exited).code).toBe(0);
      await pollUntil(badge, (t) => t === "unreachable", "the page to show the server unreachable", 15_000);
    } finally {
      for (const s of socks) s.destroy();
      await page.close();
      await server.stop();
    }
  });

  test("with --workers: a Workers table lists each worker, and the page still fits a phone", async () => {
    const server = await startServer(runtime, ["--workers", "2", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    const socks: net.Socket[] = [];
    try {
      const addr = await adminAddr(server);
      expect((await page.goto(`http://${addr}/`))?.status()).toBe(200);
      await pollUntil(() => page.locator("#workers tbody tr").count(), (n) => n === 2, "two worker rows");
      expect(await page.locator("#workers-section").isVisible()).toBe(true);
      expect(await page.locator("#about").innerText()).toContain("2/2 workers");
      const rows = await page.locator("#workers tbody tr").allInnerTexts();
      expect(rows.every((r) => r.includes("listening")), rows.join(" | ")).toBe(true);
      for (let i = 0; i < 4; i++) socks.push(await connect(server.port));
      await pollUntil(() => shown(page), (t) => t === "4", "the page to show 4 open connections", 15_000);
      await page.screenshot({ path: join(ARTIFACTS, `status-page-workers-${runtime}.png`), fullPage: true });
      const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
      expect(overflow).toBeLessThanOrEqual(0);
      expect(problems).toEqual([]);
    } finally {
      for (const s of socks) s.destroy();
      await page.close();
      const { code } = await server.stop();
      expect(code, server.log()).toBe(0);
    }
  });
});
