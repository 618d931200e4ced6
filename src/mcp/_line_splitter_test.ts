import { assertEquals } from "../../tests/assert.ts";
import { LineSplitter } from "./_line_splitter.ts";

const encoder = new TextEncoder();

function split(
  max: number,
  chunks: string[],
): { lines: string[]; dropped: number } {
  const splitter = new LineSplitter(max);
  const out = { lines: [] as string[], dropped: 0 };
  for (const chunk of chunks) {
    const { lines, dropped } = splitter.push(encoder.encode(chunk));
    out.lines.push(...lines);
    out.dropped += dropped;
  }
  return out;
}

Deno.test("LineSplitter gives the same lines however the stream is chunked", () => {
  const text = '{"a":1}\r\n\n{"b":"é"}\npartial';
  const whole = split(64, [text]);
  assertEquals(whole, { lines: ['{"a":1}', "", '{"b":"é"}'], dropped: 0 });
  for (let i = 0; i <= text.length; i++) {
    assertEquals(split(64, [text.slice(0, i), text.slice(i)]), whole);
  }
  assertEquals(split(64, [...text]), whole);
});

Deno.test("LineSplitter drops an overlong line whole, its tail included", () => {
  // The transport used to empty its buffer past the limit and read the rest of the line as a
  // line of its own: a child could smuggle a message in the tail of a long line.
  const tail = '{"jsonrpc":"2.0","id":1,"result":{}}';
  assertEquals(split(40, ["x".repeat(50), tail + "\n", "ok\n"]), {
    lines: ["ok"],
    dropped: 1,
  });
  assertEquals(split(40, ["x".repeat(50) + tail + "\nok\n"]), {
    lines: ["ok"],
    dropped: 1,
  });
  // The limit counts bytes, without the line's "\r\n".
  assertEquals(split(4, ["abcd\r\n", "abcde\n", "ééé\n"]), {
    lines: ["abcd"],
    dropped: 2,
  });
});
