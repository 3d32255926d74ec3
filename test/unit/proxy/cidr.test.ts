import { describe, expect, test } from "vitest";
import { CidrError, TrustedNets } from "../../../src/proxy/cidr.ts";

const tcp = (hostname: string) => ({ transport: "tcp" as const, hostname, port: 1 });

describe("--proxy-trusted networks", () => {
  test("IPv4 networks match plain and IPv4-mapped peers; others do not", () => {
    const t = new TrustedNets(["10.0.0.0/8", "192.0.2.7"]);
    expect(t.matches(tcp("10.200.3.4"))).toBe(true);
    expect(t.matches(tcp("::ffff:10.1.1.1"))).toBe(true);
    expect(t.matches(tcp("192.0.2.7"))).toBe(true);
    expect(t.matches(tcp("192.0.2.8"))).toBe(false);
    expect(t.matches(tcp("11.0.0.1"))).toBe(false);
  });

  test("IPv6 prefixes, odd lengths, and /0", () => {
    const t = new TrustedNets(["2001:db8::/33", "::1"]);
    expect(t.matches(tcp("2001:db8:7fff::1"))).toBe(true);
    expect(t.matches(tcp("2001:db8:8000::1"))).toBe(false);
    expect(t.matches(tcp("::1"))).toBe(true);
    expect(new TrustedNets(["0.0.0.0/0"]).matches(tcp("::1"))).toBe(false);
    expect(new TrustedNets(["::/0"]).matches(tcp("203.0.113.1"))).toBe(true);
  });

  test("unix peers are local and trusted", () => {
    expect(new TrustedNets([]).matches({ transport: "unix", path: "/x" })).toBe(true);
  });

  test("malformed networks are clear errors", () => {
    for (const bad of ["10.0.0.0/33", "::/129", "10.0.0/8", "host.example", "1.2.3.4/8/8", "", "1.2.3.4/-1"]) {
      expect(() => new TrustedNets([bad])).toThrow(CidrError);
    }
  });
});
