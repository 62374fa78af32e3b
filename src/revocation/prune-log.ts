import type { Db } from '../db/client.js';

/**
 * Deletes revocation-log entries no token can match any more (`validUntil` passed), with the
 * deliveries still queued for them (no receiver needs to hear of a revocation of tokens that
 * have all expired), at most `batchSize` per round. Returns the number of entries deleted.
 */
export async function pruneRevocationLog(db: Db, options: { batchSize: number; now?: Date; maxRounds?: number }): Promise<number> {
  const now = options.now ?? new Date();
  let total = 0;
  for (let round = 0; round < (options.maxRounds ?? 100); round += 1) {
    const rows = await db.revocationEvent.findMany({ where: { validUntil: { lt: now } }, orderBy: { validUntil: 'asc' }, select: { seq: true }, take: options.batchSize });
    if (rows.length === 0) break;
    const seqs = rows.map((row) => row.seq);
    await db.$transaction([
      db.ssfDelivery.deleteMany({ where: { seq: { in: seqs } } }),
      db.backchannelDelivery.deleteMany({ where: { seq: { in: seqs } } }),
      db.revocationEvent.deleteMany({ where: { seq: { in: seqs } } }),
    ]);
    total += seqs.length;
    if (rows.length < options.batchSize) break;
  }
  return total;
}
