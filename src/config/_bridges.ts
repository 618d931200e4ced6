/** `[bridges]`: `"command" = timeout_s`, or a table with a tool filter and prices. */
import { show, TableReader } from "./_check.ts";
import type { BridgeConfig } from "./schema.ts";

const BRIDGE_KEYS = ["timeout", "tool_filter", "price", "prices"] as const;
const MAX_PRICE = 1000;

/** Reads every bridge of the `[bridges]` table. */
export function readBridges(
  file: string,
  top: TableReader,
  defaultTimeout: number,
): Record<string, BridgeConfig> {
  const bridges: Record<string, BridgeConfig> = {};
  for (const [command, value] of Object.entries(top.table("bridges"))) {
    const key = `bridges.${JSON.stringify(command)}`;
    if (command.trim() === "") {
      top.fail("bridges", "a bridge command must not be empty");
    }
    if (typeof value === "number") {
      if (!Number.isFinite(value) || value <= 0) {
        top.fail(
          key,
          `must be a timeout in seconds greater than 0 (got ${show(value)})`,
        );
      }
      bridges[command] = {
        timeout: value,
        allow: null,
        deny: [],
        price: 1,
        prices: {},
      };
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      top.fail(
        key,
        `must be a timeout in seconds or a table { timeout, tool_filter, price, prices } (got ${
          show(value)
        })`,
      );
    }
    const table = new TableReader(file, key, value, BRIDGE_KEYS);
    const filter = new TableReader(
      file,
      `${key}.tool_filter`,
      table.raw("tool_filter"),
      [
        "allow",
        "deny",
      ],
    );
    const prices: Record<string, number> = {};
    for (const [tool, price] of Object.entries(table.table("prices"))) {
      if (
        typeof price !== "number" || !Number.isFinite(price) ||
        Math.abs(price) > MAX_PRICE
      ) {
        table.fail(
          `prices.${JSON.stringify(tool)}`,
          `must be a number from -${MAX_PRICE} to ${MAX_PRICE} (got ${
            show(price)
          })`,
        );
      }
      prices[tool] = price as number;
    }
    bridges[command] = {
      timeout: table.number("timeout", defaultTimeout, 0.001, 86_400),
      allow: filter.raw("allow") === undefined
        ? null
        : filter.stringList("allow", []),
      deny: filter.stringList("deny", []),
      price: table.number("price", 1, -MAX_PRICE, MAX_PRICE),
      prices,
    };
  }
  return bridges;
}
