// Test certificates, made with the system's `openssl` into a temp dir (once per test file
// that calls makeCerts()): a CA, a server certificate for 127.0.0.1/::1/localhost, a client
// certificate, an expired server certificate, and a server certificate from another CA.
// Runs on every runtime (node:child_process and node:fs exist on Node, Deno and Bun).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CertFiles {
  dir: string;
  /** The test CA (trust anchor for every certificate below except `other*`). */
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Server certificate and the CA in one file: a full chain. */
  serverChain: string;
  clientCert: string;
  clientKey: string;
  expiredCert: string;
  expiredKey: string;
  /** A second CA and a server certificate it signed (for 127.0.0.1 too): untrusted by `ca`. */
  otherCa: string;
  otherCert: string;
  otherKey: string;
  /** Signed by `ca`, but only for the name "elsewhere.test": a wrong-name certificate. */
  wrongNameCert: string;
  wrongNameKey: string;
  /** A second server certificate for 127.0.0.1 by `ca` (a different serial): for reload tests. */
  nextCert: string;
  nextKey: string;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (r.error) throw new Error(`the TLS tests need the openssl command (apt-get install openssl): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A key and a certificate signed by `caName`, valid `days` (negative: already expired). */
function issue(dir: string, name: string, caName: string, cn: string, san: string, days: number, ext = "server") {
  openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
  const usage = ext === "server" ? "serverAuth" : "clientAuth";
  writeFileSync(
    join(dir, `${name}.ext`),
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=${usage}\n` +
      (san ? `subjectAltName=${san}\n` : ""),
  );
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${caName}.pem`,
    "-CAkey",
    `${caName}.key`,
    "-CAcreateserial",
    "-days",
    String(days),
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ]);
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-subj",
    `/CN=${cn}`,
    "-days",
    "3650",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/** 127.0.0.2 and .3 too: the conformance suite dials those to tell a connection's local address from its listener's. */
const SERVER_SAN = "IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3,IP:::1,DNS:localhost";

export function makeCerts(): CertFiles {
  const dir = mkdtempSync(join(tmpdir(), "sb-certs-"));
  makeCa(dir, "ca", "switchboard test CA");
  makeCa(dir, "other-ca", "another CA");
  issue(dir, "server", "ca", "localhost", SERVER_SAN, 30);
  issue(dir, "next", "ca", "localhost", SERVER_SAN, 30);
  issue(dir, "client", "ca", "test client", "", 30, "client");
  issue(dir, "expired", "ca", "localhost", SERVER_SAN, -1);
  issue(dir, "other", "other-ca", "localhost", SERVER_SAN, 30);
  issue(dir, "wrong-name", "ca", "elsewhere.test", "DNS:elsewhere.test", 30);
  const p = (f: string) => join(dir, f);
  writeFileSync(p("server-chain.pem"), readFileSync(p("server.pem"), "utf8") + readFileSync(p("ca.pem"), "utf8"));
  return {
    dir,
    ca: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    serverChain: p("server-chain.pem"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    expiredCert: p("expired.pem"),
    expiredKey: p("expired.key"),
    otherCa: p("other-ca.pem"),
    otherCert: p("other.pem"),
    otherKey: p("other.key"),
    wrongNameCert: p("wrong-name.pem"),
    wrongNameKey: p("wrong-name.key"),
    nextCert: p("next.pem"),
    nextKey: p("next.key"),
  };
}

/**
 * Private keys in /tmp outlive a test run unless removed: every makeCerts() is paired with a
 * removeCerts(), in an afterAll or as soon as the files have been read.
 */
export function removeCerts(certs: CertFiles | undefined): void {
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}
