/**
 * HTML text with escaping in one place: every value interpolated into {@linkcode html}
 * is escaped unless it is already {@linkcode Html} (made by `html` itself).
 */

/** Markup that is safe to insert as it is. */
export class Html {
  /** The markup. */
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function part(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(part).join("");
  return escapeHtml(String(value));
}

/** A template whose values are escaped (arrays joined, null/undefined/false dropped). */
export function html(
  strings: TemplateStringsArray,
  ...values: unknown[]
): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    out += part(values[i]) + strings[i + 1]!;
  }
  return new Html(out);
}

/** Markup built outside `html` (the chart's SVG numbers); only for text we made. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** `text` cut to `max` characters with an ellipsis (escaped later, like any value). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
