/** `[skills.<name>]`: one skill's handler, sheet, visibility and sandbox permissions. */
import { existsSync, realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { NODE_ID_RE, show, TableReader } from "./_check.ts";
import { DEFAULTS } from "./schema.ts";
import type { SkillConfig, Visibility } from "./schema.ts";

const SKILL_KEYS = [
  "handler",
  "description",
  "tags",
  "version",
  "input_schema",
  "output_schema",
  "visibility",
  "allowed_nodes",
  "price",
  "max_input_size",
  "net",
  "read",
  "slow",
  "uri",
] as const;
const SKILL_NAME_RE = /^[a-z0-9-]{1,64}$/;
const TAG_RE = /^[a-z0-9-]{1,32}$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;
const NET_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.*-]+)(:\d{1,5})?$/;
const VISIBILITIES: readonly Visibility[] = ["public", "private", "whitelist"];

/** Reads and checks the table of skill `name`; paths resolve against the project `dir`. */
export function readSkill(
  file: string,
  dir: string,
  name: string,
  table: unknown,
): SkillConfig {
  const s = new TableReader(file, `skills.${name}`, table, SKILL_KEYS);
  if (!SKILL_NAME_RE.test(name)) {
    s.fail(
      "",
      `skill name ${show(name)} must be 1 to 64 characters of a-z, 0-9 and "-"`,
    );
  }
  const handler = s.string("handler", "");
  if (handler === "") {
    s.fail(
      "handler",
      `missing; set handler = "skills/${name}.ts" (optionally ":functionName")`,
    );
  }
  const colon = handler.lastIndexOf(":");
  const hasExport = colon > 1 &&
    /^[A-Za-z_$][\w$]*$/.test(handler.slice(colon + 1));
  const handlerFile = hasExport ? handler.slice(0, colon) : handler;
  const handlerExport = hasExport
    ? handler.slice(colon + 1)
    : DEFAULTS.skill.handlerExport;
  if (!/\.(ts|js|mts|mjs|tsx|jsx)$/.test(handlerFile)) {
    s.fail(
      "handler",
      `${show(handler)} must name a .ts or .js file, as "path.ts:function"`,
    );
  }
  const handlerPath = insideProject(s, dir, handlerFile);

  const description = s.string("description", "");
  if (description.trim() === "" || description.length > 1024) {
    s.fail(
      "description",
      `must be 1 to 1024 characters (got ${description.length})`,
    );
  }
  const tags = s.stringList("tags", []).map((t) => t.trim().toLowerCase());
  if (tags.length < 1 || tags.length > 10) {
    s.fail("tags", `must list 1 to 10 tags (got ${tags.length})`);
  }
  for (const tag of tags) {
    if (!TAG_RE.test(tag)) {
      s.fail(
        "tags",
        `tag ${show(tag)} must be 1 to 32 characters of a-z, 0-9 and "-"`,
      );
    }
  }
  const version = s.string("version", DEFAULTS.skill.version);
  if (!VERSION_RE.test(version)) {
    s.fail("version", `must look like 1.2.3 (got ${show(version)})`);
  }

  const visibility = s.string(
    "visibility",
    DEFAULTS.skill.visibility,
  ) as Visibility;
  if (!VISIBILITIES.includes(visibility)) {
    s.fail(
      "visibility",
      `must be one of public, private, whitelist (got ${show(visibility)})`,
    );
  }
  const allowedNodes = s.stringList("allowed_nodes", []);
  for (const id of allowedNodes) {
    if (!NODE_ID_RE.test(id)) {
      s.fail(
        "allowed_nodes",
        `${show(id)} is not a node id (64 lowercase hex characters)`,
      );
    }
  }
  if (visibility === "whitelist" && allowedNodes.length === 0) {
    s.fail(
      "allowed_nodes",
      `visibility "whitelist" needs allowed_nodes = ["<node id>", ...]`,
    );
  }

  const net = s.stringList("net", []);
  for (const host of net) {
    if (!NET_RE.test(host)) {
      s.fail("net", `${show(host)} must be a host or host:port`);
    }
  }
  const read = s.stringList("read", []).map((p) => resolve(dir, p));

  return {
    name,
    handlerPath,
    handlerExport,
    description,
    tags,
    version,
    inputSchema: schema(s, "input_schema"),
    outputSchema: schema(s, "output_schema"),
    visibility,
    allowedNodes,
    price: s.number("price", DEFAULTS.skill.price, -1000, 1000),
    maxInputSize: s.int(
      "max_input_size",
      DEFAULTS.skill.maxInputSize,
      1,
      10_485_760,
    ),
    net,
    read,
    slow: s.bool("slow", false),
    uri: s.raw("uri") === undefined
      ? null
      : s.string("uri", "", { min: 1, max: 512 }),
  };
}

function schema(s: TableReader, key: string): Record<string, unknown> {
  const table = s.table(key);
  for (const [k, v] of Object.entries(table)) {
    const ok = k === "_required"
      ? Array.isArray(v) && v.every((x) => typeof x === "string")
      : typeof v === "string";
    if (!ok) {
      s.fail(
        `${key}.${k}`,
        k === "_required"
          ? "must be a list of key names"
          : `must be a type name string (got ${show(v)})`,
      );
    }
  }
  return table;
}

function insideProject(s: TableReader, dir: string, path: string): string {
  const abs = resolve(dir, path);
  const real = existsSync(abs) ? realpathSync(abs) : abs;
  const realDir = existsSync(dir) ? realpathSync(dir) : dir;
  const rel = relative(realDir, real);
  if (
    rel === "" || rel.startsWith(".." + sep) || rel === ".." || isAbsolute(rel)
  ) {
    s.fail(
      "handler",
      `${
        show(path)
      } is outside the project directory "${dir}"; move the handler inside it`,
    );
  }
  if (!existsSync(abs)) {
    s.fail("handler", `file ${show(path)} not found in "${dir}"`);
  }
  return abs;
}
