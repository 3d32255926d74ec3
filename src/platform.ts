// OS and CPU names as release file names spell them (linux-x64, darwin-arm64,
// windows-x64): each runtime reports them its own way (Node "win32", Deno "x86_64").

/** "win32" (Node, Bun) → "windows"; Deno's names ("linux", "darwin", "windows") are kept. */
export function platformName(os: string): string {
  return os === "win32" ? "windows" : os;
}

/** Deno's "x86_64" / "aarch64" → "x64" / "arm64"; Node's and Bun's names are kept. */
export function archName(arch: string): string {
  return arch === "x86_64" ? "x64" : arch === "aarch64" ? "arm64" : arch;
}
