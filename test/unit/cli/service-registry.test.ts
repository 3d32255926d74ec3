// The service registry and the serve flags that pick and configure a service.
import { describe, expect, test } from "vitest";
import { findService, ServiceConfigError, services } from "../../../src/cli/service-registry.ts";
import { cli } from "../services/support.ts";

describe("registry", () => {
  test("every service has its well-known port + 7000 (app: 7065)", () => {
    expect(Object.fromEntries(services.map((s) => [s.name, s.defaultPort]))).toEqual({
      echo: 7007,
      discard: 7009,
      daytime: 7013,
      chargen: 7019,
      time: 7037,
      app: 7065,
    });
  });

  test("echo takes --framing; a bad spec is a ServiceConfigError", () => {
    const echo = findService("echo")!;
    expect(echo.takes.framing).toBe(true);
    expect(echo.create({ maxFrame: 100 }).name).toBe("echo");
    expect(echo.create({ maxFrame: 100, framing: "lp:u16" }).name).toBe("echo");
    expect(() => echo.create({ maxFrame: 100, framing: "lp:u3" })).toThrow(ServiceConfigError);
  });

  test("app takes --data: a JSON object, anything else is a ServiceConfigError", () => {
    const app = findService("app")!;
    expect(app.takes.data).toBe(true);
    expect(app.create({ maxFrame: 100, data: { a: "b" } }).name).toBe("app");
    expect(() => app.create({ maxFrame: 100, data: [1, 2] })).toThrow(ServiceConfigError);
    expect(() => app.create({ maxFrame: 100, data: "x" })).toThrow(/JSON object/);
  });

  test("unknown names are not found", () => {
    expect(findService("qotd")).toBeUndefined();
  });
});

describe("serve: service flags", () => {
  test.each([
    [["--service", "discard", "--framing", "line"], /--framing: does not apply to the discard service/],
    [["--service", "echo", "--framing", "lp:u9"], /bad framing "lp:u9"/],
    [["--service", "echo", "--data", "x.json"], /--data: does not apply to the echo service/],
    [["--service", "nope"], /unknown service "nope"/],
  ])("%j is a usage error (exit 2)", async (args, message) => {
    const r = await cli(["serve", "--listen", "127.0.0.1:0", ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test("--data that cannot be read or is not a JSON object fails with the file and the reason (exit 1)", async () => {
    const missing = await cli(["serve", "--listen", "127.0.0.1:0", "--service", "app", "--data", "missing.json"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--data "missing\.json": cannot read/);
    const bad = await cli(["serve", "--listen", "127.0.0.1:0", "--service", "app", "--data", "bad.json"], {
      files: { "bad.json": "{nope" },
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not valid JSON/);
    const list = await cli(["serve", "--listen", "127.0.0.1:0", "--service", "app", "--data", "list.json"], {
      files: { "list.json": "[1]" },
    });
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/--data "list\.json": expected a JSON object of search term -> result, got an array/);
  });

  test("help lists every service with its port, and the new flags", async () => {
    const r = await cli(["serve", "--help"]);
    expect(r.code).toBe(0);
    for (const s of services) expect(r.stdout).toContain(`${s.name.padEnd(8)} port ${s.defaultPort}`);
    expect(r.stdout).toContain("--framing SPEC");
    expect(r.stdout).toContain("--data FILE");
  });
});
