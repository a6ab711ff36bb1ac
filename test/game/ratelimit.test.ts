// The rate limit of POST /api/input: a token bucket per player (GAME_INPUT_BURST lines at once, GAME_INPUT_RATE a
// second after that). A refused line gets 429 rate_limited with Retry-After and is not run; every accepted line runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame({ GAME_INPUT_RATE: '1', GAME_INPUT_BURST: '3' });
});
afterAll(async () => host?.dispose());

async function send(p: Player, text: string): Promise<{ status: number; body: { error?: { code: string; message: string } }; retryAfter: string | null }> {
  const res = await host.fetch('/api/input', { method: 'POST', headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } }, retryAfter: res.headers.get('retry-after') };
}

describe('rate limit on /api/input', () => {
  it('a line beyond the burst gets 429 rate_limited with Retry-After and is not run; the accepted ones all run', async () => {
    const p = await Player.join(host, 'hasty');
    const started = Date.now();
    const accepted: string[] = [];
    let refused: Awaited<ReturnType<typeof send>> | undefined;
    let refusedLine = '';
    for (let n = 1; n <= 20 && !refused; n++) {
      const r = await send(p, `echo line ${n}`);
      if (r.status === 202) accepted.push(`line ${n}`);
      else {
        refused = r;
        refusedLine = `line ${n}`;
      }
    }
    const elapsedS = (Date.now() - started) / 1000;
    expect(refused?.status).toBe(429);
    expect(refused?.body.error?.code).toBe('rate_limited');
    expect(refused?.body.error?.message).toMatch(/^You are sending lines faster than this game accepts \(1 a second, 3 at once\); that line was not run\. Wait [1-9]\d* s, then send it again\.$/);
    expect(Number(refused?.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused?.body.error?.message).toContain(`Wait ${refused?.retryAfter} s`);
    // The burst, plus at most what refilled meanwhile (1 a second).
    expect(accepted.length).toBeGreaterThanOrEqual(3);
    expect(accepted.length).toBeLessThanOrEqual(3 + Math.ceil(elapsedS));
    await host.idle();
    expect(await p.read()).toEqual(accepted);
    expect(accepted).not.toContain(refusedLine);
    // Each player has a bucket of their own.
    const calm = await Player.join(host, 'calm');
    expect(await calm.type('echo hello')).toMatchObject({ kind: 'command', ok: true });
  });
});
