import {
  assert,
  assertEquals,
  assertThrows,
  readVector,
} from "../../tests/assert.ts";
import { Identity } from "../crypto/mod.ts";
import { parseConfig } from "../config/mod.ts";
import { hexToBytes } from "../util/mod.ts";
import { canonicalJson, parseJson, signMessage } from "../wire/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import {
  buildSheet,
  requiredInputs,
  sheetPrice,
  validateSheet,
} from "./mod.ts";

interface Vectors {
  identities: Record<string, { seed_hex: string; public_key: string }>;
  vectors: {
    name: string;
    message: Record<string, unknown>;
    wire_json: string;
    signature: string;
  }[];
}
const vectors = readVector<Vectors>("messages.json");

Deno.test("buildSheet() of the init template's echo skill signs exactly as the original announces it", async () => {
  const dir = Deno.makeTempDirSync();
  Deno.mkdirSync(`${dir}/skills`);
  Deno.writeTextFileSync(
    `${dir}/skills/echo.ts`,
    "export function handle() {}",
  );
  const config = parseConfig(
    `[skills.echo]
handler = "skills/echo.ts:handle"
description = "Echoes input text back"
tags = ["example"]
version = "1.0.0"
uri = "knarr:///tools/dev/echo@1.0"
input_schema = { text = "string" }
output_schema = { text = "string" }
`,
    `${dir}/knarr.toml`,
  );
  const sheet = buildSheet(config.skills[0]!);
  const vector = vectors.vectors.find((v) =>
    v.name === "announce_default_price_omitted"
  )!;
  const wire = parseJson(vector.wire_json) as JsonObject;
  assertEquals(canonicalJson(sheet), canonicalJson(wire.skill_sheet));
  const signer = Object.values(vectors.identities).find((i) =>
    i.public_key === wire.public_key
  )!;
  const identity = await Identity.fromSeed(hexToBytes(signer.seed_hex));
  const signed = await signMessage(
    "ANNOUNCE",
    {
      node_id: identity.nodeId,
      skill_key: "echo",
      skill_sheet: sheet,
    },
    identity,
    { msgId: wire.msg_id as string },
  );
  assertEquals(signed.signature, vector.signature);
});

Deno.test("buildSheet() keeps a non-default price as a float and omits defaults", () => {
  const base = {
    name: "Echo",
    version: "1.0.0",
    description: "d",
    tags: ["Example"],
    inputSchema: {},
    outputSchema: {},
    maxInputSize: 65_536,
  };
  assertEquals(
    canonicalJson(buildSheet({ ...base, price: 3 })).includes('"price":3.0'),
    true,
  );
  assertEquals("price" in buildSheet({ ...base, price: 1 }), false);
  assertEquals(
    buildSheet({ ...base, price: 1, maxInputSize: 10 }).max_input_size,
    10,
  );
  assertEquals(buildSheet({ ...base, price: 1 }).name, "echo");
  assertEquals(buildSheet({ ...base, price: 1 }).tags, ["example"]);
  assertThrows(() => buildSheet({ ...base, price: 1, tags: [] }), RangeError);
});

Deno.test("validateSheet() accepts the original's sheets and names each defect", () => {
  for (
    const v of vectors.vectors.filter((v) => v.message.type === "ANNOUNCE")
  ) {
    assertEquals(
      validateSheet((parseJson(v.wire_json) as JsonObject).skill_sheet),
      null,
    );
  }
  const good = {
    name: "a",
    version: "1.0.0",
    description: "d",
    tags: ["t"],
    input_schema: {},
    output_schema: {},
  };
  const cases: [Record<string, unknown>, string][] = [
    [
      { ...good, name: "Bad Name!" },
      "Skill name must contain only lowercase alphanumeric characters and hyphens",
    ],
    [{ ...good, name: "x".repeat(65) }, "Skill name must be 1-64 characters"],
    [
      { ...good, version: "1.0" },
      "Skill version must be semantic (major.minor.patch)",
    ],
    [
      { ...good, description: "" },
      "Skill description must be 1-1024 characters",
    ],
    [{ ...good, tags: [] }, "Skill must have 1-10 tags"],
    [{ ...good, tags: Array(11).fill("t") }, "Skill must have 1-10 tags"],
    [
      { ...good, tags: ["a b"] },
      "Tags must be 1-32 lowercase alphanumeric characters or hyphens",
    ],
    [
      { ...good, input_schema: { a: 1 } },
      "input_schema must map field names to type names",
    ],
    [{ ...good, output_schema: [] }, "output_schema must be an object"],
    [
      { ...good, price: 1001 },
      "Price must be a finite number with absolute value at most 1000",
    ],
    [
      { ...good, price: "free" },
      "Price must be a finite number with absolute value at most 1000",
    ],
    [
      { ...good, max_input_size: 0 },
      "max_input_size must be an integer from 1 to 10485760",
    ],
    [{
      ...good,
      description: "x".repeat(1024),
      input_schema: Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`k${i}`, "string"]),
      ),
    }, "Skill sheet exceeds 4096 bytes"],
  ];
  for (const [sheet, message] of cases) {
    assertEquals(validateSheet(sheet), message);
  }
  assert(validateSheet(null) !== null);
});

Deno.test("requiredInputs() uses _required when present, else every schema key", () => {
  const sheet = (schema: JsonObject) =>
    ({ input_schema: schema }) as JsonObject;
  assertEquals(requiredInputs(sheet({ a: "string", b: "number" })), ["a", "b"]);
  assertEquals(
    requiredInputs(sheet({ a: "string", b: "number", _required: ["b"] })),
    ["b"],
  );
  assertEquals(sheetPrice({ price: 2.5 }), 2.5);
  assertEquals(sheetPrice({}), 1);
});
