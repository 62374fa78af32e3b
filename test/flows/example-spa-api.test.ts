import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { root } from '../support/server.js';

/**
 * examples/spa-api/demo.mjs, run as a newcomer would (`node examples/spa-api/demo.mjs`): it starts
 * Tessera and the example API twice (without and with `isRevoked: feed.isRevoked`), signs a user in,
 * logs out, and reports what each API answered. Its own exit code says whether the outcome was right;
 * the transcript is checked here too.
 */
describe('examples/spa-api: the seed reproduced, and fixed by one line', () => {
  let child: ChildProcess | undefined;

  afterAll(async () => {
    // Only if the test gave up on it: SIGTERM lets the demo stop its processes and remove its directory.
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('before logout both APIs answer 200; after logout 200 without the line, 401 with it', async () => {
    child = spawn(process.execPath, [join(root, 'examples/spa-api/demo.mjs')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));

    const transcript = `${stdout}\n--- stderr ---\n${stderr}`;
    expect(code, transcript).toBe(0);

    // Step 5 lists the answers before logout, step 7 those after it; each: "<without|with> the line → <status> <body>".
    const beforeLogout = stdout.slice(stdout.indexOf('before logout:'), stdout.indexOf('after logout:'));
    const afterLogout = stdout.slice(stdout.indexOf('after logout:'));
    expect(stdout.indexOf('before logout:'), transcript).toBeGreaterThan(-1);
    expect(stdout.indexOf('after logout:'), transcript).toBeGreaterThan(stdout.indexOf('before logout:'));
    const status = (section: string, which: 'without' | 'with') => new RegExp(`^\\s*${which} the line\\s+→ (\\d{3})`, 'm').exec(section)?.[1];

    expect(status(beforeLogout, 'without'), transcript).toBe('200');
    expect(status(beforeLogout, 'with'), transcript).toBe('200');
    expect(status(afterLogout, 'without'), transcript).toBe('200');
    expect(status(afterLogout, 'with'), transcript).toBe('401');
    expect(afterLogout, transcript).toMatch(/401 \{"error":"revoked_token"\}\s+← refused \d+ ms after the logout/);
    expect(stdout).toMatch(/^RESULT: as expected\./m);
  }, 120_000);
});
