/** The command-line interface. */
export { main, VERSION } from "./main.ts";
export type { MainOptions } from "./main.ts";
export { memoryOutput } from "./output.ts";
export type { Output } from "./output.ts";
