/** Real MCP servers from npm for the bridge tests: installed once per machine, run with node. */
import { join } from "node:path";
import { tmpdir } from "node:os";

/** The pinned MCP server packages the tests run. */
export const MCP_SERVERS = {
  everything: "@modelcontextprotocol/server-everything@2026.8.31",
  filesystem: "@modelcontextprotocol/server-filesystem@2026.8.31",
} as const;

const ROOT = join(tmpdir(), "knarr-test-mcp-servers-2026.8.31");

let installing: Promise<string> | null = null;

/** Installs the pinned servers with npm (once; later runs reuse them) and returns their folder. */
export function installMcpServers(): Promise<string> {
  return installing ??= (async () => {
    const marker = join(ROOT, "installed");
    try {
      await Deno.stat(marker);
      return ROOT;
    } catch {
      // not yet
    }
    const staging = `${ROOT}.${crypto.randomUUID().slice(0, 8)}`;
    await Deno.mkdir(staging, { recursive: true });
    const { code, stderr } = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        staging,
        "--no-audit",
        "--no-fund",
        "--loglevel",
        "error",
        ...Object.values(MCP_SERVERS),
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(
        `Cannot install MCP servers with npm: ${
          new TextDecoder().decode(stderr)
        }`,
      );
    }
    await Deno.writeTextFile(join(staging, "installed"), "");
    try {
      await Deno.rename(staging, ROOT);
    } catch {
      // another test process won the race: use its copy
      await Deno.remove(staging, { recursive: true }).catch(() => {});
    }
    return ROOT;
  })();
}

/** The command line that starts one of the servers (node, so the bridge's pid is the server's). */
export async function mcpServerCommand(
  name: keyof typeof MCP_SERVERS,
  args: string[] = [],
): Promise<string> {
  const root = await installMcpServers();
  const script = join(
    root,
    "node_modules",
    "@modelcontextprotocol",
    `server-${name}`,
    "dist",
    "index.js",
  );
  return ["node", script, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(" ");
}
