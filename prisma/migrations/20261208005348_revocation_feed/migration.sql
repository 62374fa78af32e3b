-- CreateTable
CREATE TABLE "RevocationEvent" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "txn" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "kind" TEXT NOT NULL,
    "eventType" INTEGER NOT NULL,
    "accountId" TEXT,
    "clientId" TEXT,
    "sid" TEXT,
    "jti" TEXT,
    "backchannel" BOOLEAN NOT NULL DEFAULT false,
    "initiator" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "validUntil" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "SsfStream" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "clientId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'enabled',
    "statusReason" TEXT,
    "eventsRequested" TEXT NOT NULL DEFAULT '[]',
    "eventMask" INTEGER NOT NULL,
    "deliveryMethod" TEXT NOT NULL,
    "pushEndpoint" TEXT,
    "pushAuthorization" TEXT,
    "description" TEXT,
    "inactivityTimeout" INTEGER NOT NULL,
    "lastActiveAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastVerificationAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "SsfDelivery" (
    "streamId" TEXT NOT NULL,
    "jti" TEXT NOT NULL,
    "seq" INTEGER,
    "verifyState" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("streamId", "jti")
);

-- CreateTable
CREATE TABLE "BackchannelDelivery" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_SigningKey" (
    "kid" TEXT NOT NULL PRIMARY KEY,
    "alg" TEXT NOT NULL,
    "purpose" TEXT NOT NULL DEFAULT 'oidc',
    "privateJwk" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retiredAt" DATETIME
);
INSERT INTO "new_SigningKey" ("alg", "createdAt", "kid", "privateJwk", "retiredAt") SELECT "alg", "createdAt", "kid", "privateJwk", "retiredAt" FROM "SigningKey";
DROP TABLE "SigningKey";
ALTER TABLE "new_SigningKey" RENAME TO "SigningKey";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "RevocationEvent_txn_idx" ON "RevocationEvent"("txn");

-- CreateIndex
CREATE INDEX "RevocationEvent_validUntil_idx" ON "RevocationEvent"("validUntil");

-- CreateIndex
CREATE INDEX "SsfStream_clientId_idx" ON "SsfStream"("clientId");

-- CreateIndex
CREATE INDEX "SsfStream_lastActiveAt_idx" ON "SsfStream"("lastActiveAt");

-- CreateIndex
CREATE INDEX "SsfDelivery_nextAttemptAt_idx" ON "SsfDelivery"("nextAttemptAt");

-- CreateIndex
CREATE INDEX "BackchannelDelivery_nextAttemptAt_idx" ON "BackchannelDelivery"("nextAttemptAt");
