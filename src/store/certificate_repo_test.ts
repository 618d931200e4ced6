import { join } from "node:path";
import { assertEquals } from "../../tests/assert.ts";
import { CertificateRepo, Database } from "./mod.ts";

Deno.test("CertificateRepo.get() is null until a certificate is put", async () => {
  await using db = Database.open(":memory:");
  assertEquals(new CertificateRepo(db).get(), null);
});

Deno.test("CertificateRepo.put() replaces the one stored certificate and survives reopening", async () => {
  const path = join(
    Deno.makeTempDirSync({ prefix: "knarr-store-" }),
    "node.db",
  );
  {
    await using db = Database.open(path);
    const repo = new CertificateRepo(db);
    repo.put(Uint8Array.of(1, 2, 3), 1700000000.5);
    repo.put(Uint8Array.of(4, 5), 1700000001);
    assertEquals(db.all("SELECT count(*) AS n FROM sidecar_certificate"), [{
      n: 1,
    }]);
  }
  await using db = Database.open(path);
  assertEquals(new CertificateRepo(db).get(), {
    der: Uint8Array.of(4, 5),
    createdAt: 1700000001,
  });
});
