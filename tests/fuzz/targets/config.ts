/** Fuzz target of the config layer: knarr.toml text through smol-toml and the validation. */
import fc from "fast-check";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { JsonFloat } from "../../../src/wire/mod.ts";
import { ConfigError, parseConfig } from "../../../src/config/mod.ts";
import {
  attempt,
  ensure,
  type FuzzTarget,
  text,
  utf8,
} from "../fuzz_target.ts";
import { mutatedBytes, randomText, whole } from "../mutate.ts";
import { type Json, mutatedJson } from "../mutate_json.ts";
import { repoText } from "../seeds.ts";

const ID = "ab".repeat(32);

/** The repository's knarr.toml, every section and key once, and small files. */
const SEEDS = [
  repoText("knarr.toml"),
  `[node]\nport = 9100\nhost = "127.0.0.1"\nstorage = "data/n.db"\nadvertise_host = "node.example"\nsidecar_port = 0\nmax_asset_size = 1024\nmax_task_timeout = 0\ntask_slots = 2\nmax_queue_depth = 5\n[network]\nbootstrap = ["10.0.0.1:9000", "[::1]:9001"]\nupnp = true\ngossip_fanout = 5\nrelay = "relay.example:9009"\nrelay_when = "unreachable"\n[sidecar]\nasset_dir = "blobs"\nmax_total_size = 2048\nasset_ttl = 0\nallow_uploads = ["${ID}"]\n[skills.fetch-page]\nhandler = "skills/echo.ts:run"\ndescription = "d"\ntags = ["Web", "http"]\nversion = "2.0.1"\ninput_schema = { url = "string", _required = ["url"] }\noutput_schema = { body = "string" }\nvisibility = "whitelist"\nallowed_nodes = ["${ID}"]\nprice = 2.5\nmax_input_size = 10\nnet = ["example.com", "api.example.com:443"]\nread = ["README.md"]\nslow = true\nuri = "knarr:///web/fetch@1"\n[bridges]\n"npx -y some-mcp" = 45\n"node filtered.js" = { timeout = 5, tool_filter = { allow = ["a", "b"], deny = ["b"] }, price = 2.0, prices = { a = 0.5 } }\n[policy]\ninitial_credit = 10\nmin_balance = 0\ntit_for_tat = true\n[relay]\nenabled = true\nport = 9010\nversion = "1.0"\nbind_identities = true\nkey_file = "relay.key"\n`,
  `[node]\nport = 0\n`,
  `node = { port = 1 }\nsidecar = { asset_ttl = 1.5 }\n`,
  `[[skills]]\nx = 1\n`,
].map(utf8);

/** A JSON tree as TOML can hold it: Python floats as numbers, nulls dropped. */
function tomlable(value: Json): unknown {
  if (value instanceof JsonFloat) return value.value;
  if (Array.isArray(value)) {
    return value.filter((v) => v !== null).map(tomlable);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== null).map((
        [k, v],
      ) => [k, tomlable(v)]),
    );
  }
  return value;
}

/** The seeds as trees, values replaced, deleted or added, written back as TOML. */
function mutatedTables(): fc.Arbitrary<Uint8Array> {
  const trees = SEEDS.map((s) =>
    JSON.parse(JSON.stringify(parseToml(text(s)))) as Json
  );
  return mutatedJson(trees, {
    keys: [
      "node",
      "port",
      "sidecar_port",
      "max_asset_size",
      "task_slots",
      "bootstrap",
      "skills",
      "handler",
      "tags",
      "price",
      "max_input_size",
      "relay",
      "bridges",
      "timeout",
      "asset_ttl",
      "allow_uploads",
    ],
  }).map((tree) => {
    try {
      return utf8(stringifyToml(tomlable(tree) as Record<string, unknown>));
    } catch {
      return utf8("# not TOML-able\n");
    }
  });
}

function allFinite(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (typeof value === "object" && value !== null) {
    return Object.values(value).every(allFinite);
  }
  return true;
}

const TOML_TOKENS = [
  "[",
  "]",
  "[[",
  "]]",
  "=",
  '"',
  "'''",
  '"""',
  "\n",
  "#",
  ".",
  "1979-05-27T07:32:00Z",
  "1979-05-27",
  "inf",
  "nan",
  "0x10",
  "1e400",
  "-0",
  "true",
  "{",
  "}",
  ",",
  "\\u0000",
  "node",
  "skills",
  "relay",
];

const SECTIONS = [
  "node",
  "network",
  "sidecar",
  "skills",
  "bridges",
  "policy",
  "relay",
];

const config: FuzzTarget = {
  name: "config.toml",
  about:
    "parseConfig: ConfigError only; an accepted file has real tables for its sections and ports in range",
  quickRuns: 300,
  input: () =>
    whole(fc.oneof(
      { weight: 6, arbitrary: mutatedBytes(SEEDS, { tokens: TOML_TOKENS }) },
      { weight: 4, arbitrary: mutatedTables() },
      {
        weight: 1,
        arbitrary: randomText('[]=".\n #abcdeknoprstuy0123456789{},', 200),
      },
    )),
  open: () => {
    const file = new URL("../../../knarr.toml", import.meta.url).pathname;
    return {
      check({ data }) {
        const source = text(data);
        const parsed = attempt(
          () => parseConfig(source, file),
          [ConfigError],
          "parseConfig",
        );
        if (parsed === undefined) return;
        const doc = parseToml(source) as Record<string, unknown>;
        for (const section of SECTIONS) {
          const value = doc[section];
          if (value === undefined) continue;
          ensure(
            typeof value === "object" && value !== null &&
              !Array.isArray(value) &&
              !(value instanceof Date),
            `parseConfig accepted ${section} = ${
              value instanceof Date ? "a date" : typeof value
            }, not a table`,
          );
        }
        ensure(
          allFinite(parsed),
          "parseConfig accepted a number that is not finite",
        );
        for (const skill of parsed.skills) {
          ensure(
            Number.isInteger(skill.maxInputSize) &&
              Number.isFinite(skill.price),
            `parseConfig accepted skill "${skill.name}" with odd numbers`,
          );
        }
        for (
          const port of [
            parsed.node.port,
            parsed.node.sidecarPort ?? 0,
            parsed.relay.port,
          ]
        ) {
          ensure(
            Number.isInteger(port) && port >= 0 && port <= 65535,
            `parseConfig accepted port ${port}`,
          );
        }
      },
    };
  },
};

/** The config layer's targets. */
export const CONFIG_TARGETS: readonly FuzzTarget[] = [config];
