-- CreateTable
CREATE TABLE "RegistryRevision" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "revision" INTEGER NOT NULL DEFAULT 0
);

-- Every change to a client or an API, by any process (a server, the CLI, plain SQL), raises the
-- one revision. Each server polls it to drop its in-memory copies of those rows
-- (src/clients/registry-cache.ts).
INSERT INTO "RegistryRevision" ("id", "revision") VALUES (1, 0);

CREATE TRIGGER "Client_registry_insert" AFTER INSERT ON "Client"
BEGIN UPDATE "RegistryRevision" SET "revision" = "revision" + 1 WHERE "id" = 1; END;

CREATE TRIGGER "Client_registry_update" AFTER UPDATE ON "Client"
BEGIN UPDATE "RegistryRevision" SET "revision" = "revision" + 1 WHERE "id" = 1; END;

CREATE TRIGGER "Client_registry_delete" AFTER DELETE ON "Client"
BEGIN UPDATE "RegistryRevision" SET "revision" = "revision" + 1 WHERE "id" = 1; END;

CREATE TRIGGER "Api_registry_insert" AFTER INSERT ON "Api"
BEGIN UPDATE "RegistryRevision" SET "revision" = "revision" + 1 WHERE "id" = 1; END;

CREATE TRIGGER "Api_registry_update" AFTER UPDATE ON "Api"
BEGIN UPDATE "RegistryRevision" SET "revision" = "revision" + 1 WHERE "id" = 1; END;

CREATE TRIGGER "Api_registry_delete" AFTER DELETE ON "Api"
BEGIN UPDATE "RegistryRevision" SET "revision" = "revision" + 1 WHERE "id" = 1; END;
