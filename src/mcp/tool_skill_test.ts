import { assertEquals } from "../../tests/assert.ts";
import { toolSkill } from "./tool_skill.ts";

function deepAnyOf(depth: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: "integer" };
  for (let i = 0; i < depth; i++) {
    schema = { anyOf: [{ type: "null" }, schema] };
  }
  return schema;
}

Deno.test("toolSkill() reads a type from anyOf and survives a schema nested 30,000 levels deep", () => {
  const shallow = toolSkill({
    name: "t",
    inputSchema: { type: "object", properties: { x: deepAnyOf(1) } },
  });
  assertEquals(shallow?.sheet.inputSchema.x, "integer");
  // Found by the fuzzer (mcp.tool-list): a schema 30,000 levels deep overflowed the stack.
  const deep = toolSkill({
    name: "t",
    inputSchema: { type: "object", properties: { x: deepAnyOf(30_000) } },
  });
  assertEquals(deep?.sheet.inputSchema.x, "string");
});
