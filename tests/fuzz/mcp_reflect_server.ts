/**
 * A raw MCP server for the fuzzer (no SDK, so it can write anything): one tool, `reflect`, whose
 * answer is `{"jsonrpc":"2.0","id":<id>,"result":<reply>}` with `reply` the bytes it was given
 * (base64), written in separate writes at the given cut points. When those bytes do not make one
 * JSON line, a JSON-RPC error for the same id follows, so every call gets an answer.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const stdout = Deno.stdout.writable.getWriter();

async function write(bytes: Uint8Array): Promise<void> {
  await stdout.write(bytes);
}

function answer(id: unknown, result: unknown): Promise<void> {
  return write(
    encoder.encode(JSON.stringify({ jsonrpc: "2.0", id, result }) + "\n"),
  );
}

async function reflect(
  id: unknown,
  args: Record<string, unknown>,
): Promise<void> {
  const reply = Uint8Array.from(
    atob(String(args.reply ?? "")),
    (c) => c.charCodeAt(0),
  );
  const head = encoder.encode(
    `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":`,
  );
  const line = new Uint8Array(head.length + reply.length + 2);
  line.set(head);
  line.set(reply, head.length);
  line.set(encoder.encode("}\n"), head.length + reply.length);
  const cuts = (Array.isArray(args.cuts) ? args.cuts : [])
    .map((c) => Number(c) % (line.length + 1))
    .filter((c) => c > 0 && c < line.length)
    .sort((a, b) => a - b);
  let from = 0;
  for (const cut of [...new Set(cuts), line.length]) {
    await write(line.subarray(from, cut));
    from = cut;
  }
  let whole = false;
  try {
    const text = decoder.decode(line.subarray(0, -1));
    whole = !text.includes("\n") && JSON.parse(text)?.id === id;
  } catch {
    // not one JSON-RPC line: answer again below
  }
  if (!whole) {
    await write(encoder.encode(
      JSON.stringify({
        jsonrpc: "2.0",
        id,
        error: {
          code: -32000,
          message: "fuzz: the reply was not one JSON line",
        },
      }) + "\n",
    ));
  }
}

const TOOL = {
  name: "reflect",
  description: "Answers with the bytes it is given",
  inputSchema: {
    type: "object",
    properties: { reply: { type: "string" }, cuts: { type: "array" } },
  },
};

let pending = "";
for await (const chunk of Deno.stdin.readable) {
  pending += decoder.decode(chunk, { stream: true });
  let newline: number;
  while ((newline = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    if (line.trim() === "") continue;
    const message = JSON.parse(line);
    if (message.id === undefined) continue; // a notification
    switch (message.method) {
      case "initialize":
        await answer(message.id, {
          protocolVersion: message.params.protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: "reflect", version: "1.0.0" },
        });
        break;
      case "tools/list":
        await answer(message.id, { tools: [TOOL] });
        break;
      case "tools/call":
        await reflect(message.id, message.params.arguments ?? {});
        break;
      default:
        await write(encoder.encode(
          JSON.stringify({
            jsonrpc: "2.0",
            id: message.id,
            error: { code: -32601, message: "unknown method" },
          }) + "\n",
        ));
    }
  }
}
