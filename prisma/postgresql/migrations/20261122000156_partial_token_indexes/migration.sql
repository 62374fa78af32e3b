-- The grantId, sessionUid and accountId indexes of the token tables leave out rows without a
-- value (a client_credentials token has none of the three): every revocation filters on a value,
-- and each NULL entry cost an index insert per token (bench/README.md).

-- DropIndex
DROP INDEX "JwtAccessToken_grantId_idx";

-- DropIndex
DROP INDEX "JwtAccessToken_sessionUid_idx";

-- DropIndex
DROP INDEX "JwtAccessToken_accountId_idx";

-- DropIndex
DROP INDEX "OidcSession_grantId_idx";

-- DropIndex
DROP INDEX "OidcSession_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcSession_accountId_idx";

-- DropIndex
DROP INDEX "OidcGrant_grantId_idx";

-- DropIndex
DROP INDEX "OidcGrant_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcGrant_accountId_idx";

-- DropIndex
DROP INDEX "OidcAccessToken_grantId_idx";

-- DropIndex
DROP INDEX "OidcAccessToken_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcAccessToken_accountId_idx";

-- DropIndex
DROP INDEX "OidcRefreshToken_grantId_idx";

-- DropIndex
DROP INDEX "OidcRefreshToken_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcRefreshToken_accountId_idx";

-- DropIndex
DROP INDEX "OidcAuthorizationCode_grantId_idx";

-- DropIndex
DROP INDEX "OidcAuthorizationCode_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcAuthorizationCode_accountId_idx";

-- DropIndex
DROP INDEX "OidcClientCredentials_grantId_idx";

-- DropIndex
DROP INDEX "OidcClientCredentials_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcClientCredentials_accountId_idx";

-- DropIndex
DROP INDEX "OidcDeviceCode_grantId_idx";

-- DropIndex
DROP INDEX "OidcDeviceCode_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcDeviceCode_accountId_idx";

-- DropIndex
DROP INDEX "OidcInteraction_grantId_idx";

-- DropIndex
DROP INDEX "OidcInteraction_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcInteraction_accountId_idx";

-- DropIndex
DROP INDEX "OidcReplayDetection_grantId_idx";

-- DropIndex
DROP INDEX "OidcReplayDetection_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcReplayDetection_accountId_idx";

-- DropIndex
DROP INDEX "OidcPushedAuthorizationRequest_grantId_idx";

-- DropIndex
DROP INDEX "OidcPushedAuthorizationRequest_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcPushedAuthorizationRequest_accountId_idx";

-- DropIndex
DROP INDEX "OidcBackchannelAuthenticationRequest_grantId_idx";

-- DropIndex
DROP INDEX "OidcBackchannelAuthenticationRequest_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcBackchannelAuthenticationRequest_accountId_idx";

-- DropIndex
DROP INDEX "OidcRegistrationAccessToken_grantId_idx";

-- DropIndex
DROP INDEX "OidcRegistrationAccessToken_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcRegistrationAccessToken_accountId_idx";

-- DropIndex
DROP INDEX "OidcInitialAccessToken_grantId_idx";

-- DropIndex
DROP INDEX "OidcInitialAccessToken_sessionUid_idx";

-- DropIndex
DROP INDEX "OidcInitialAccessToken_accountId_idx";

-- CreateIndex
CREATE INDEX "JwtAccessToken_grantId_idx" ON "JwtAccessToken"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "JwtAccessToken_sessionUid_idx" ON "JwtAccessToken"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "JwtAccessToken_accountId_idx" ON "JwtAccessToken"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcSession_grantId_idx" ON "OidcSession"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcSession_sessionUid_idx" ON "OidcSession"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcSession_accountId_idx" ON "OidcSession"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcGrant_grantId_idx" ON "OidcGrant"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcGrant_sessionUid_idx" ON "OidcGrant"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcGrant_accountId_idx" ON "OidcGrant"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcAccessToken_grantId_idx" ON "OidcAccessToken"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcAccessToken_sessionUid_idx" ON "OidcAccessToken"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcAccessToken_accountId_idx" ON "OidcAccessToken"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcRefreshToken_grantId_idx" ON "OidcRefreshToken"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcRefreshToken_sessionUid_idx" ON "OidcRefreshToken"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcRefreshToken_accountId_idx" ON "OidcRefreshToken"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcAuthorizationCode_grantId_idx" ON "OidcAuthorizationCode"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcAuthorizationCode_sessionUid_idx" ON "OidcAuthorizationCode"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcAuthorizationCode_accountId_idx" ON "OidcAuthorizationCode"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcClientCredentials_grantId_idx" ON "OidcClientCredentials"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcClientCredentials_sessionUid_idx" ON "OidcClientCredentials"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcClientCredentials_accountId_idx" ON "OidcClientCredentials"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcDeviceCode_grantId_idx" ON "OidcDeviceCode"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcDeviceCode_sessionUid_idx" ON "OidcDeviceCode"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcDeviceCode_accountId_idx" ON "OidcDeviceCode"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcInteraction_grantId_idx" ON "OidcInteraction"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcInteraction_sessionUid_idx" ON "OidcInteraction"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcInteraction_accountId_idx" ON "OidcInteraction"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcReplayDetection_grantId_idx" ON "OidcReplayDetection"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcReplayDetection_sessionUid_idx" ON "OidcReplayDetection"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcReplayDetection_accountId_idx" ON "OidcReplayDetection"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcPushedAuthorizationRequest_grantId_idx" ON "OidcPushedAuthorizationRequest"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcPushedAuthorizationRequest_sessionUid_idx" ON "OidcPushedAuthorizationRequest"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcPushedAuthorizationRequest_accountId_idx" ON "OidcPushedAuthorizationRequest"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcBackchannelAuthenticationRequest_grantId_idx" ON "OidcBackchannelAuthenticationRequest"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcBackchannelAuthenticationRequest_sessionUid_idx" ON "OidcBackchannelAuthenticationRequest"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcBackchannelAuthenticationRequest_accountId_idx" ON "OidcBackchannelAuthenticationRequest"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcRegistrationAccessToken_grantId_idx" ON "OidcRegistrationAccessToken"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcRegistrationAccessToken_sessionUid_idx" ON "OidcRegistrationAccessToken"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcRegistrationAccessToken_accountId_idx" ON "OidcRegistrationAccessToken"("accountId") WHERE ("accountId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcInitialAccessToken_grantId_idx" ON "OidcInitialAccessToken"("grantId") WHERE ("grantId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcInitialAccessToken_sessionUid_idx" ON "OidcInitialAccessToken"("sessionUid") WHERE ("sessionUid" IS NOT NULL);

-- CreateIndex
CREATE INDEX "OidcInitialAccessToken_accountId_idx" ON "OidcInitialAccessToken"("accountId") WHERE ("accountId" IS NOT NULL);
