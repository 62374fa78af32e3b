-- CreateTable
CREATE TABLE "RegistryRevision" (
    "id" INTEGER NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "RegistryRevision_pkey" PRIMARY KEY ("id")
);

-- Every change to a client or an API, by any process (an instance, the CLI, plain SQL), raises
-- the one revision. Each instance polls it to drop its in-memory copies of those rows
-- (src/clients/registry-cache.ts).
INSERT INTO "RegistryRevision" ("id", "revision") VALUES (1, 0);

-- The migration runner splits a script at every semicolon, quoted or not, so the function's
-- body writes its semicolons as \073 (octal) in an escape string.
CREATE FUNCTION "tessera_registry_changed"() RETURNS trigger LANGUAGE plpgsql AS
E'BEGIN UPDATE "RegistryRevision" SET "revision" = "revision" + 1 WHERE "id" = 1\073 RETURN NULL\073 END';

CREATE TRIGGER "Client_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Client"
FOR EACH STATEMENT EXECUTE FUNCTION "tessera_registry_changed"();

CREATE TRIGGER "Api_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Api"
FOR EACH STATEMENT EXECUTE FUNCTION "tessera_registry_changed"();
