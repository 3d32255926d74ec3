// The shared stale-socket policy: only a refused probe unlinks; the conformance check
// "does not replace a live unix socket whose backlog is full" proves the adapters use it.
import { expect, test } from "vitest";
import { judgeStaleUnixSocket } from "../../src/adapter-kit/stale-unix-socket.ts";

test("only ECONNREFUSED unlinks a socket file", () => {
  expect(judgeStaleUnixSocket("ECONNREFUSED")).toEqual({ unlink: true });
});

test("a listener that answers or whose backlog is full is in use", () => {
  for (const probe of ["connected", "EAGAIN", "EWOULDBLOCK"]) {
    expect(judgeStaleUnixSocket(probe)).toEqual({ unlink: false, code: "EADDRINUSE" });
  }
});

test("other probe failures fail the listen with their own code", () => {
  expect(judgeStaleUnixSocket("EACCES")).toEqual({ unlink: false, code: "EACCES" });
  expect(judgeStaleUnixSocket("ETIMEDOUT")).toEqual({ unlink: false, code: "ETIMEDOUT" });
  expect(judgeStaleUnixSocket("EINTR")).toEqual({ unlink: false, code: "EUNKNOWN" });
});
