/**
 * A sandbox Worker's private directory of staged assets, `<assetDir>/.inbox/<id>/`.
 *
 * A Worker's permissions are fixed when it starts and Deno's read grant is a path
 * prefix that also covers files created later, so each Worker is granted its own
 * inbox and a run's assets are hard-linked into it (copied across file systems);
 * the inbox is emptied after every run, so a warm Worker cannot read the files of
 * an earlier one. The only file in the layer that writes files.
 */
import { assetRefHash, type AssetStore } from "../assets/mod.ts";
import type { JsonObject } from "../wire/mod.ts";

/** The folder of the asset directory that holds the inboxes. */
export const INBOX_FOLDER = ".inbox";

/** One Worker's inbox; create with {@linkcode AssetInbox.create}. */
export class AssetInbox {
  /** Absolute path of the inbox; the Worker may read it. */
  readonly dir: string;
  #store: AssetStore;
  #link: (source: string, target: string) => Promise<void>;
  #dirty = false;

  private constructor(
    store: AssetStore,
    dir: string,
    link: (source: string, target: string) => Promise<void>,
  ) {
    this.#store = store;
    this.dir = dir;
    this.#link = link;
  }

  /**
   * Makes a fresh, empty inbox under `<store.dir>/.inbox/`. `options.link` replaces
   * `Deno.link` (tests make it fail as it does across file systems).
   */
  static async create(
    store: AssetStore,
    options: { link?: (source: string, target: string) => Promise<void> } = {},
  ): Promise<AssetInbox> {
    const parent = `${store.dir}/${INBOX_FOLDER}`;
    await Deno.mkdir(parent, { recursive: true, mode: 0o700 });
    const dir = `${parent}/${crypto.randomUUID()}`;
    await Deno.mkdir(dir, { mode: 0o700 });
    return new AssetInbox(store, dir, options.link ?? Deno.link);
  }

  /**
   * Puts a stored asset into the inbox and returns its path there, or null when it is
   * not stored; throws `TypeError` for a malformed hash.
   */
  async stage(
    hash: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<string | null> {
    this.#store.pathOf(hash);
    options.signal?.throwIfAborted();
    const source = await this.#store.get(hash);
    if (source === null) return null;
    options.signal?.throwIfAborted();
    const target = `${this.dir}/${hash}`;
    this.#dirty = true;
    try {
      await this.#link(source, target);
    } catch (error) {
      // Same name, same content: staged earlier in this run.
      if (error instanceof Deno.errors.AlreadyExists) return target;
      await copyInto(source, target);
    }
    return target;
  }

  /** A copy of `input` whose top-level `knarr-asset://` refs of stored assets are staged paths. */
  async stageRefs(
    input: JsonObject,
    options: { signal?: AbortSignal } = {},
  ): Promise<JsonObject> {
    let output: JsonObject | undefined;
    for (const [key, value] of Object.entries(input)) {
      const hash = assetRefHash(value);
      if (hash === null) continue;
      const path = await this.stage(hash, options);
      if (path === null) continue;
      output ??= { ...input };
      output[key] = path;
    }
    return output ?? input;
  }

  /** Removes everything staged so far (nothing to do, and no syscall, when nothing was). */
  async clear(): Promise<void> {
    // Only stage() writes here (the Worker cannot write), so a clean inbox stays clean.
    if (!this.#dirty) return;
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        await removeIfPresent(`${this.dir}/${entry.name}`);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    // Only once it is really empty: a failed clear is tried in full again.
    this.#dirty = false;
  }

  /** Removes the inbox and its files; idempotent. */
  remove(): Promise<void> {
    return removeIfPresent(this.dir);
  }
}

/** Copies beside the target, then renames, so a concurrent stage never sees half a file. */
async function copyInto(source: string, target: string): Promise<void> {
  const temp = `${target}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.copyFile(source, temp);
    await Deno.rename(temp, target);
  } catch (error) {
    await removeIfPresent(temp).catch(() => {});
    throw new Error(`Cannot stage asset "${source}" in "${target}"`, {
      cause: error,
    });
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
