import { assertEquals } from "../../tests/assert.ts";
import { ago, bytes, duration, millis } from "./_format.ts";
import { escapeHtml, html } from "./_html.ts";

Deno.test("The cockpit's number formats", () => {
  assertEquals(
    [0.42, 0.99999, 1, 4.25, 9.96, 12.4, 999.6, 1320, null, NaN].map(millis),
    [
      "420 µs",
      "1.0 ms",
      "1.0 ms",
      "4.3 ms",
      "10 ms",
      "12 ms",
      "1.0 s",
      "1.3 s",
      "–",
      "–",
    ],
  );
  assertEquals([0, 1023, 1536, 1073741824].map(bytes), [
    "0 B",
    "1023 B",
    "1.5 KiB",
    "1.0 GiB",
  ]);
  assertEquals([5_000, 125_000, 7_500_000, 190_000_000].map(duration), [
    "0 min 5 s",
    "2 min 5 s",
    "2 h 5 min",
    "2 d 4 h",
  ]);
  assertEquals([100, 40, 4000, 90_000].map((s) => ago(100 - s, 100)), [
    "1 min ago",
    "40 s ago",
    "1 h ago",
    "1 d ago",
  ]);
});

Deno.test("html escapes every interpolated value, nested templates stay markup", () => {
  const evil = `<script>"x" & 'y'</script>`;
  assertEquals(
    escapeHtml(evil),
    "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;",
  );
  assertEquals(
    html`<td title="${evil}">${[
      evil,
      html`<b>${evil}</b>`,
    ]}${null}${false}</td>`.text,
    `<td title="${escapeHtml(evil)}">${escapeHtml(evil)}<b>${
      escapeHtml(evil)
    }</b></td>`,
  );
});
