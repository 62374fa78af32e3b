import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Tessera never passes a token, code, cookie or password to the logger; the
 * redaction list is a second line of defence for request objects that might carry them.
 */
export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'tessera' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.client_secret',
          '*.token',
          '*.access_token',
          '*.refresh_token',
          '*.code',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stdout,
  );
}
