// The npm `solc` package ships no types; this is the one function the contract build uses.
declare module 'solc' {
  /** Compiles a standard-JSON input (as a string) and returns the standard-JSON output (as a string). */
  export function compile(input: string, callbacks?: { import?: (path: string) => { contents: string } | { error: string } }): string;
  /** The compiler's version, e.g. `0.8.28+commit.7893614a.Emscripten.clang`. */
  export function version(): string;
  const solc: { compile: typeof compile; version: typeof version };
  export default solc;
}
