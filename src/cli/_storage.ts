/** Which database a local command (info, demand) reads. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadConfig } from "../config/mod.ts";
import type { CommandContext } from "./command.ts";
import { stringFlag } from "./command.ts";

/** `--storage` if given; else the storage of ./knarr.toml if present; else ./node.db. */
export async function storagePath(ctx: CommandContext): Promise<string> {
  const flag = stringFlag(ctx, "storage");
  if (flag !== undefined) return resolve(flag);
  if (existsSync("knarr.toml")) {
    return (await loadConfig("knarr.toml")).node.storage;
  }
  return resolve("node.db");
}
