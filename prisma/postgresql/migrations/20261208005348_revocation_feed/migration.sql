-- AlterTable
ALTER TABLE "SigningKey" ADD COLUMN     "purpose" TEXT NOT NULL DEFAULT 'oidc';

-- CreateTable
CREATE TABLE "RevocationEvent" (
    "seq" SERIAL NOT NULL,
    "txn" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "eventType" INTEGER NOT NULL,
    "accountId" TEXT,
    "clientId" TEXT,
    "sid" TEXT,
    "jti" TEXT,
    "backchannel" BOOLEAN NOT NULL DEFAULT false,
    "initiator" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "validUntil" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RevocationEvent_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "SsfStream" (
    "id" TEXT NOT NULL,
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
    "lastActiveAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastVerificationAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SsfStream_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SsfDelivery" (
    "streamId" TEXT NOT NULL,
    "jti" TEXT NOT NULL,
    "seq" INTEGER,
    "verifyState" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SsfDelivery_pkey" PRIMARY KEY ("streamId","jti")
);

-- CreateTable
CREATE TABLE "BackchannelDelivery" (
    "seq" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BackchannelDelivery_pkey" PRIMARY KEY ("seq")
);

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
