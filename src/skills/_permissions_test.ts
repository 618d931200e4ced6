import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../../tests/assert.ts";
import { SkillPermissionError } from "./errors.ts";
import { databasePaths, workerPermissions } from "./_permissions.ts";
import type { SkillSpec } from "./types.ts";

function spec(handlerPath: string, extra: Partial<SkillSpec> = {}): SkillSpec {
  return {
    name: "s",
    handlerPath,
    handlerExport: "handle",
    net: [],
    read: [],
    ...extra,
  };
}

const HOST = "/opt/knarr/src/skills/worker_host.ts";

Deno.test("workerPermissions() grants the host file, the handler directory, declared paths and the inbox", () => {
  const permissions = workerPermissions(
    spec("/p/skills/a.ts", {
      read: ["/data", "/data/x"],
      net: ["example.com", "127.0.0.1:8080"],
    }),
    {
      hostPath: HOST,
      assetDir: "/p/assets",
      inboxDir: "/p/assets/.inbox/1",
      protectedPaths: databasePaths("/p/node.db"),
    },
  );
  assertEquals(permissions, {
    read: [HOST, "/p/skills", "/data", "/data/x", "/p/assets/.inbox/1"],
    net: ["example.com", "127.0.0.1:8080"],
    env: false,
    run: false,
    write: false,
    ffi: false,
    sys: false,
    import: false,
  });
});

Deno.test("workerPermissions() denies net entirely when none is declared", () => {
  const permissions = workerPermissions(spec("/p/skills/a.ts"), {
    hostPath: HOST,
    protectedPaths: [],
  });
  assertEquals(permissions.net, false);
  assertEquals(permissions.read, [HOST, "/p/skills"]);
});

Deno.test("workerPermissions() grants only the handler file when its directory holds the database", () => {
  const permissions = workerPermissions(spec("/p/tool.ts"), {
    hostPath: HOST,
    protectedPaths: databasePaths("/p/node.db"),
  });
  assertEquals(permissions.read, [HOST, "/p/tool.ts"]);
});

Deno.test("workerPermissions() refuses grants that would expose a protected path", async (t) => {
  const context = {
    hostPath: HOST,
    protectedPaths: databasePaths("/p/node.db"),
  };
  await t.step("read path", () => {
    assertThrows(
      () => workerPermissions(spec("/p/skills/a.ts", { read: ["/"] }), context),
      (e: Error) => {
        assert(e instanceof SkillPermissionError);
        assertMatch(
          e.message,
          /^Cannot load skill "s": read path "\/" would expose protected file "\/p\/node\.db"$/,
        );
        return true;
      },
    );
  });
  await t.step("the WAL file", () => {
    assertThrows(
      () =>
        workerPermissions(
          spec("/p/skills/a.ts", { read: ["/p/node.db-wal"] }),
          context,
        ),
      SkillPermissionError,
    );
  });
  await t.step("asset inbox", () => {
    assertThrows(
      () =>
        workerPermissions(spec("/p/skills/a.ts"), {
          ...context,
          inboxDir: "/p",
        }),
      SkillPermissionError,
    );
  });
  await t.step("read path over the asset directory", () => {
    assertThrows(
      () =>
        workerPermissions(spec("/p/skills/a.ts", { read: ["/q"] }), {
          ...context,
          assetDir: "/q/assets",
        }),
      SkillPermissionError,
    );
  });
  await t.step("handler that is the database", () => {
    assertThrows(
      () => workerPermissions(spec("/p/node.db"), context),
      SkillPermissionError,
    );
  });
});

Deno.test("workerPermissions() grants only the handler file when its directory holds the asset directory", () => {
  const permissions = workerPermissions(spec("/p/tool.ts"), {
    hostPath: HOST,
    assetDir: "/p/assets",
    inboxDir: "/p/assets/.inbox/1",
    protectedPaths: [],
  });
  assertEquals(permissions.read, [HOST, "/p/tool.ts", "/p/assets/.inbox/1"]);
});

Deno.test("workerPermissions() sees through a symlink to the database's directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr_perm_" });
  try {
    await Deno.mkdir(`${dir}/real`);
    await Deno.writeTextFile(`${dir}/real/node.db`, "key");
    await Deno.symlink(`${dir}/real`, `${dir}/link`);
    assertThrows(
      () =>
        workerPermissions(
          spec(`${dir}/skills/a.ts`, { read: [`${dir}/link`] }),
          {
            hostPath: HOST,
            protectedPaths: [`${dir}/real/node.db`],
          },
        ),
      SkillPermissionError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
