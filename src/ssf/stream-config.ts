import { z } from 'zod';

import { invalidInput } from '../errors.js';

export const POLL_METHOD = 'urn:ietf:rfc:8936';
export const PUSH_METHOD = 'urn:ietf:rfc:8935';

/** Receiver-supplied members of a stream configuration (SSF 1.0 §8.1.1). */
const delivery = z.discriminatedUnion('method', [
  z.object({ method: z.literal(POLL_METHOD), endpoint_url: z.string().optional() }),
  z.object({
    method: z.literal(PUSH_METHOD),
    endpoint_url: z.url({ protocol: /^https?$/ }),
    authorization_header: z.string().min(1).max(4096).optional(),
  }),
]);

export const streamInput = z.object({
  delivery: delivery.optional(),
  events_requested: z.array(z.string().min(1).max(512)).max(64).optional(),
  description: z.string().max(1000).optional(),
});

export type StreamInput = z.infer<typeof streamInput>;

export const statusInput = z.object({
  stream_id: z.string().min(1).max(200),
  status: z.enum(['enabled', 'paused', 'disabled']),
  reason: z.string().max(1000).optional(),
});

export const verificationInput = z.object({
  stream_id: z.string().min(1).max(200),
  state: z.string().max(1000).optional(),
});

/** RFC 8936 §2.4 poll request. */
export const pollInput = z.object({
  maxEvents: z.number().int().min(0).max(10_000).optional(),
  returnImmediately: z.boolean().optional(),
  ack: z.array(z.string().min(1).max(512)).max(10_000).optional(),
  setErrs: z.record(z.string().max(512), z.object({ err: z.string().max(100), description: z.string().max(1000).optional() })).optional(),
});

/** Parses a JSON body with a schema; a 400 naming the first bad field otherwise. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidInput('body', 'must be a JSON object');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalidInput(issue.path.join('.') || 'body', issue.message);
  }
  return parsed.data;
}
