-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "roles" TEXT NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastLoginAt" TIMESTAMP(3),
    "lastLogoutAt" TIMESTAMP(3),

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Client" (
    "clientId" TEXT NOT NULL,
    "metadata" TEXT NOT NULL,
    "secretHash" TEXT,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Client_pkey" PRIMARY KEY ("clientId")
);

-- CreateTable
CREATE TABLE "Api" (
    "identifier" TEXT NOT NULL,
    "name" TEXT,
    "scopes" TEXT NOT NULL DEFAULT '[]',
    "accessTokenFormat" TEXT NOT NULL DEFAULT 'jwt',
    "accessTokenTtlSeconds" INTEGER NOT NULL DEFAULT 300,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Api_pkey" PRIMARY KEY ("identifier")
);

-- CreateTable
CREATE TABLE "SigningKey" (
    "kid" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "privateJwk" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retiredAt" TIMESTAMP(3),

    CONSTRAINT "SigningKey_pkey" PRIMARY KEY ("kid")
);

-- CreateTable
CREATE TABLE "ServerSecret" (
    "id" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ServerSecret_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JwtAccessToken" (
    "id" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT NOT NULL,
    "expiresWithSession" BOOLEAN NOT NULL DEFAULT false,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "JwtAccessToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcSession" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "uid" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcGrant" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcGrant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcAccessToken" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcAccessToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcRefreshToken" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcRefreshToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcAuthorizationCode" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcAuthorizationCode_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcClientCredentials" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcClientCredentials_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcDeviceCode" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "userCode" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcDeviceCode_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcInteraction" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcInteraction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcReplayDetection" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcReplayDetection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcPushedAuthorizationRequest" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcPushedAuthorizationRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcBackchannelAuthenticationRequest" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcBackchannelAuthenticationRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcRegistrationAccessToken" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcRegistrationAccessToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OidcInitialAccessToken" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "sessionUid" TEXT,
    "accountId" TEXT,
    "clientId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OidcInitialAccessToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "ServerSecret_purpose_idx" ON "ServerSecret"("purpose");

-- CreateIndex
CREATE INDEX "JwtAccessToken_grantId_idx" ON "JwtAccessToken"("grantId");

-- CreateIndex
CREATE INDEX "JwtAccessToken_sessionUid_idx" ON "JwtAccessToken"("sessionUid");

-- CreateIndex
CREATE INDEX "JwtAccessToken_accountId_idx" ON "JwtAccessToken"("accountId");

-- CreateIndex
CREATE INDEX "JwtAccessToken_expiresAt_idx" ON "JwtAccessToken"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "OidcSession_uid_key" ON "OidcSession"("uid");

-- CreateIndex
CREATE INDEX "OidcSession_grantId_idx" ON "OidcSession"("grantId");

-- CreateIndex
CREATE INDEX "OidcSession_sessionUid_idx" ON "OidcSession"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcSession_accountId_idx" ON "OidcSession"("accountId");

-- CreateIndex
CREATE INDEX "OidcSession_expiresAt_idx" ON "OidcSession"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcGrant_grantId_idx" ON "OidcGrant"("grantId");

-- CreateIndex
CREATE INDEX "OidcGrant_sessionUid_idx" ON "OidcGrant"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcGrant_accountId_idx" ON "OidcGrant"("accountId");

-- CreateIndex
CREATE INDEX "OidcGrant_expiresAt_idx" ON "OidcGrant"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcAccessToken_grantId_idx" ON "OidcAccessToken"("grantId");

-- CreateIndex
CREATE INDEX "OidcAccessToken_sessionUid_idx" ON "OidcAccessToken"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcAccessToken_accountId_idx" ON "OidcAccessToken"("accountId");

-- CreateIndex
CREATE INDEX "OidcAccessToken_expiresAt_idx" ON "OidcAccessToken"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcRefreshToken_grantId_idx" ON "OidcRefreshToken"("grantId");

-- CreateIndex
CREATE INDEX "OidcRefreshToken_sessionUid_idx" ON "OidcRefreshToken"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcRefreshToken_accountId_idx" ON "OidcRefreshToken"("accountId");

-- CreateIndex
CREATE INDEX "OidcRefreshToken_expiresAt_idx" ON "OidcRefreshToken"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcAuthorizationCode_grantId_idx" ON "OidcAuthorizationCode"("grantId");

-- CreateIndex
CREATE INDEX "OidcAuthorizationCode_sessionUid_idx" ON "OidcAuthorizationCode"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcAuthorizationCode_accountId_idx" ON "OidcAuthorizationCode"("accountId");

-- CreateIndex
CREATE INDEX "OidcAuthorizationCode_expiresAt_idx" ON "OidcAuthorizationCode"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcClientCredentials_grantId_idx" ON "OidcClientCredentials"("grantId");

-- CreateIndex
CREATE INDEX "OidcClientCredentials_sessionUid_idx" ON "OidcClientCredentials"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcClientCredentials_accountId_idx" ON "OidcClientCredentials"("accountId");

-- CreateIndex
CREATE INDEX "OidcClientCredentials_expiresAt_idx" ON "OidcClientCredentials"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "OidcDeviceCode_userCode_key" ON "OidcDeviceCode"("userCode");

-- CreateIndex
CREATE INDEX "OidcDeviceCode_grantId_idx" ON "OidcDeviceCode"("grantId");

-- CreateIndex
CREATE INDEX "OidcDeviceCode_sessionUid_idx" ON "OidcDeviceCode"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcDeviceCode_accountId_idx" ON "OidcDeviceCode"("accountId");

-- CreateIndex
CREATE INDEX "OidcDeviceCode_expiresAt_idx" ON "OidcDeviceCode"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcInteraction_grantId_idx" ON "OidcInteraction"("grantId");

-- CreateIndex
CREATE INDEX "OidcInteraction_sessionUid_idx" ON "OidcInteraction"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcInteraction_accountId_idx" ON "OidcInteraction"("accountId");

-- CreateIndex
CREATE INDEX "OidcInteraction_expiresAt_idx" ON "OidcInteraction"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcReplayDetection_grantId_idx" ON "OidcReplayDetection"("grantId");

-- CreateIndex
CREATE INDEX "OidcReplayDetection_sessionUid_idx" ON "OidcReplayDetection"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcReplayDetection_accountId_idx" ON "OidcReplayDetection"("accountId");

-- CreateIndex
CREATE INDEX "OidcReplayDetection_expiresAt_idx" ON "OidcReplayDetection"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcPushedAuthorizationRequest_grantId_idx" ON "OidcPushedAuthorizationRequest"("grantId");

-- CreateIndex
CREATE INDEX "OidcPushedAuthorizationRequest_sessionUid_idx" ON "OidcPushedAuthorizationRequest"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcPushedAuthorizationRequest_accountId_idx" ON "OidcPushedAuthorizationRequest"("accountId");

-- CreateIndex
CREATE INDEX "OidcPushedAuthorizationRequest_expiresAt_idx" ON "OidcPushedAuthorizationRequest"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcBackchannelAuthenticationRequest_grantId_idx" ON "OidcBackchannelAuthenticationRequest"("grantId");

-- CreateIndex
CREATE INDEX "OidcBackchannelAuthenticationRequest_sessionUid_idx" ON "OidcBackchannelAuthenticationRequest"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcBackchannelAuthenticationRequest_accountId_idx" ON "OidcBackchannelAuthenticationRequest"("accountId");

-- CreateIndex
CREATE INDEX "OidcBackchannelAuthenticationRequest_expiresAt_idx" ON "OidcBackchannelAuthenticationRequest"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcRegistrationAccessToken_grantId_idx" ON "OidcRegistrationAccessToken"("grantId");

-- CreateIndex
CREATE INDEX "OidcRegistrationAccessToken_sessionUid_idx" ON "OidcRegistrationAccessToken"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcRegistrationAccessToken_accountId_idx" ON "OidcRegistrationAccessToken"("accountId");

-- CreateIndex
CREATE INDEX "OidcRegistrationAccessToken_expiresAt_idx" ON "OidcRegistrationAccessToken"("expiresAt");

-- CreateIndex
CREATE INDEX "OidcInitialAccessToken_grantId_idx" ON "OidcInitialAccessToken"("grantId");

-- CreateIndex
CREATE INDEX "OidcInitialAccessToken_sessionUid_idx" ON "OidcInitialAccessToken"("sessionUid");

-- CreateIndex
CREATE INDEX "OidcInitialAccessToken_accountId_idx" ON "OidcInitialAccessToken"("accountId");

-- CreateIndex
CREATE INDEX "OidcInitialAccessToken_expiresAt_idx" ON "OidcInitialAccessToken"("expiresAt");
