import { AppError } from '../errors.js';

/** Reads all of standard input as UTF-8 (for --password-stdin and JSON documents). */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON document from stdin, naming the problem when it is not JSON. */
export function parseJsonInput(text: string, what: string): unknown {
  if (text.trim() === '') throw new AppError(400, 'invalid_input', `${what}: expected a JSON document on standard input`, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AppError(400, 'invalid_input', `${what}: standard input is not valid JSON (${(err as Error).message})`, what);
  }
}

/** One password line from stdin: a single trailing newline is not part of the password. */
export function passwordFromStdin(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
