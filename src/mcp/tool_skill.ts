/** From an MCP tool to the skill sheet knarr announces for it (spec part 6). */

/** An MCP tool as `tools/list` describes it. */
export interface McpTool {
  name: string;
  description?: string | undefined;
  inputSchema?: {
    properties?: unknown;
    required?: unknown;
    [key: string]: unknown;
  };
}

/** A bridged tool: its skill name, the sheet to announce and the full input schema. */
export interface ToolSkill {
  /** The skill name: the tool name lower-cased, `_` → `-`. */
  skill: string;
  /** The tool name the MCP server knows. */
  tool: string;
  /** What `KnarrNode.announce()` takes. */
  sheet: {
    name: string;
    version: string;
    description: string;
    tags: string[];
    inputSchema: Record<string, unknown>;
    outputSchema: Record<string, unknown>;
    price: number;
    maxInputSize: number;
  };
  /** The tool's whole JSON Schema, which inputs are validated against. */
  schema: Record<string, unknown>;
}

const SKILL_NAME_RE = /^[a-z0-9-]{1,64}$/;
const MAX_DESCRIPTION = 1024;

/** Options of {@linkcode toolSkill}. */
export interface ToolSkillOptions {
  /** Credits per call. Default 1. */
  price?: number;
  /** Largest input in bytes. Default 65536. */
  maxInputSize?: number;
}

/**
 * The skill of an MCP tool: the original's naming, description and flattened
 * `{field: type}` schema, except that only the tool's `required` fields are required
 * (the original made every field required). Null when the name cannot be a skill name.
 */
export function toolSkill(
  tool: McpTool,
  options: ToolSkillOptions = {},
): ToolSkill | null {
  const skill = tool.name.trim().toLowerCase().replaceAll("_", "-");
  if (!SKILL_NAME_RE.test(skill)) return null;
  const schema = isObject(tool.inputSchema)
    ? tool.inputSchema
    : { type: "object" };
  const properties = isObject(schema.properties) ? schema.properties : {};
  const flat: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(properties)) {
    flat[field] = typeName(spec);
  }
  const required = Array.isArray(schema.required)
    ? schema.required.filter((f): f is string =>
      typeof f === "string" && f in flat
    )
    : [];
  flat._required = required;
  const description = (tool.description?.trim() || `MCP tool: ${tool.name}`)
    .slice(
      0,
      MAX_DESCRIPTION,
    );
  return {
    skill,
    tool: tool.name,
    sheet: {
      name: skill,
      version: "1.0.0",
      description,
      tags: ["mcp"],
      inputSchema: flat,
      outputSchema: { content: "string" },
      price: options.price ?? 1,
      maxInputSize: options.maxInputSize ?? 65_536,
    },
    schema,
  };
}

/** Deepest `anyOf`/`oneOf` nesting looked into for a property's type. */
const MAX_SCHEMA_DEPTH = 32;

/** The first non-null JSON Schema type of a property; `string` when none is given. */
function typeName(spec: unknown, depth = 0): string {
  // A server's schema can nest without end; past a sane depth the type is unknown.
  if (!isObject(spec) || depth > MAX_SCHEMA_DEPTH) return "string";
  const type = spec.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) {
    const first = type.find((t) => typeof t === "string" && t !== "null");
    if (typeof first === "string") return first;
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = spec[key];
    if (Array.isArray(options)) {
      for (const option of options) {
        const t = typeName(option, depth + 1);
        if (t !== "null" && isObject(option) && option.type !== undefined) {
          return t;
        }
      }
    }
  }
  return "string";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
