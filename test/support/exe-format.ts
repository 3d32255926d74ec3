// Reads the headers of an executable file (ELF, Mach-O or PE) and says what it is, so the
// release test can check binaries it cannot run here (musl, macOS, Windows) are at least
// well-formed executables for the platform their name promises. Headers are read where
// they point (postject, for one, appends the ELF program headers at the end of the file).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export type ExeInfo =
  | {
    format: "elf";
    /** ET_EXEC or ET_DYN (a position-independent executable). */
    type: "exec" | "dyn" | "other";
    /** e_machine, by name where known: x86-64 (62), aarch64 (183). */
    machine: string;
    /** The program interpreter (PT_INTERP): which C library's loader runs it. */
    interpreter: string | undefined;
  }
  | {
    format: "macho";
    /** cputype: x86_64 (0x01000007) or arm64 (0x0100000c). */
    cpu: string;
    /** filetype: MH_EXECUTE (2). */
    executable: boolean;
    /** LC_LOAD_DYLINKER's path (dyld). */
    dylinker: string | undefined;
    /** Has LC_MAIN (an entry point). */
    entryPoint: boolean;
    /** Has LC_CODE_SIGNATURE: macOS on Apple silicon refuses to run unsigned code. */
    signed: boolean;
  }
  | {
    format: "pe";
    /** COFF Machine: x86-64 (0x8664) or arm64 (0xaa64). */
    machine: string;
    /** IMAGE_FILE_EXECUTABLE_IMAGE set and not a DLL. */
    executable: boolean;
    /** Optional header magic 0x20b. */
    pe32plus: boolean;
    /** Windows subsystem: console (3) or gui (2). */
    subsystem: string;
  }
  | { format: "unknown" };

const ELF_MACHINES: Record<number, string> = { 62: "x86-64", 183: "aarch64", 3: "x86", 40: "arm" };
const MACHO_CPUS: Record<number, string> = { 0x01000007: "x86_64", 0x0100000c: "arm64" };
const PE_MACHINES: Record<number, string> = { 0x8664: "x86-64", 0xaa64: "arm64", 0x14c: "x86" };
const PE_SUBSYSTEMS: Record<number, string> = { 2: "gui", 3: "console" };

/** Positioned reads from an open file; a range past the end is an error naming `what`. */
class Reader {
  readonly size: number;
  constructor(private readonly fd: number) {
    this.size = fstatSync(fd).size;
  }
  bytes(off: number, len: number, what: string): Uint8Array {
    if (off < 0 || len < 0 || off + len > this.size) throw new Error(`${what} lies outside the file`);
    const b = new Uint8Array(len);
    if (readSync(this.fd, b, 0, len, off) !== len) throw new Error(`short read of ${what}`);
    return b;
  }
  view(off: number, len: number, what: string): DataView {
    const b = this.bytes(off, len, what);
    return new DataView(b.buffer);
  }
}

/** Text up to the first NUL. */
function cString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? b : b.subarray(0, nul));
}

function elf(r: Reader, v: DataView): ExeInfo {
  // Only 64-bit little-endian ELF is released (EI_CLASS 2, EI_DATA 1).
  if (v.getUint8(4) !== 2 || v.getUint8(5) !== 1) return { format: "unknown" };
  const eType = v.getUint16(16, true);
  const machine = v.getUint16(18, true);
  const phoff = Number(v.getBigUint64(32, true));
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  const phs = r.view(phoff, phnum * phentsize, "the ELF program headers");
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = i * phentsize;
    if (phs.getUint32(ph, true) !== 3) continue; // PT_INTERP
    const off = Number(phs.getBigUint64(ph + 8, true));
    const size = Number(phs.getBigUint64(ph + 32, true));
    interpreter = cString(r.bytes(off, size, "the ELF interpreter name"));
  }
  return {
    format: "elf",
    type: eType === 2 ? "exec" : eType === 3 ? "dyn" : "other",
    machine: ELF_MACHINES[machine] ?? `e_machine ${machine}`,
    interpreter,
  };
}

function macho(r: Reader, v: DataView): ExeInfo {
  const cpu = v.getUint32(4, true);
  const filetype = v.getUint32(12, true);
  const ncmds = v.getUint32(16, true);
  const cmds = r.view(32, v.getUint32(20, true), "the Mach-O load commands"); // after mach_header_64
  let off = 0;
  let dylinker: string | undefined;
  let entryPoint = false;
  let signed = false;
  for (let i = 0; i < ncmds; i++) {
    if (off + 8 > cmds.byteLength) throw new Error(`Mach-O load command ${i} lies past sizeofcmds`);
    const cmd = cmds.getUint32(off, true);
    const size = cmds.getUint32(off + 4, true);
    if (size < 8 || off + size > cmds.byteLength) throw new Error(`Mach-O load command ${i} has size ${size}`);
    if (cmd === 0xe) { // LC_LOAD_DYLINKER: the path starts at its offset inside the command
      dylinker = cString(new Uint8Array(cmds.buffer, off + cmds.getUint32(off + 8, true), size - 12));
    }
    if (cmd === 0x80000028) entryPoint = true; // LC_MAIN
    if (cmd === 0x1d) signed = true; // LC_CODE_SIGNATURE
    off += size;
  }
  return {
    format: "macho",
    cpu: MACHO_CPUS[cpu] ?? `cputype 0x${cpu.toString(16)}`,
    executable: filetype === 2,
    dylinker,
    entryPoint,
    signed,
  };
}

function pe(r: Reader, v: DataView): ExeInfo {
  const h = r.view(v.getUint32(0x3c, true), 24 + 70, "the PE headers"); // at e_lfanew
  if (h.getUint32(0, false) !== 0x50450000) return { format: "unknown" }; // "PE\0\0"
  const machine = h.getUint16(4, true);
  const characteristics = h.getUint16(22, true);
  const opt = 24; // the optional header
  const subsystem = h.getUint16(opt + 68, true);
  return {
    format: "pe",
    machine: PE_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`,
    executable: (characteristics & 0x0002) !== 0 && (characteristics & 0x2000) === 0,
    pe32plus: h.getUint16(opt, true) === 0x20b,
    subsystem: PE_SUBSYSTEMS[subsystem] ?? `subsystem ${subsystem}`,
  };
}

/** What kind of executable `path` is, from its headers. */
export function exeInfo(path: string): ExeInfo {
  const fd = openSync(path, "r");
  try {
    const r = new Reader(fd);
    if (r.size < 64) return { format: "unknown" };
    const v = r.view(0, 64, "the file header"); // ELF64's and PE's DOS header are 64 bytes, Mach-O's 32
    if (v.getUint32(0, false) === 0x7f454c46) return elf(r, v); // "\x7fELF"
    if (v.getUint32(0, true) === 0xfeedfacf) return macho(r, v); // MH_MAGIC_64, little-endian
    if (v.getUint16(0, false) === 0x4d5a) return pe(r, v); // "MZ"
    return { format: "unknown" };
  } finally {
    closeSync(fd);
  }
}
