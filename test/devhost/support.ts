// Shared helpers for the devhost tests: fixture folders, one host per store, management-API calls and the
// assertions every file makes on the Durable status JSON and on the host's `{"error":{"code","message"}}` answers.
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { startTestHost, type StatusJson as DevhostStatusJson, type TestHost, type TestHostOptions } from '../../devhost';

/** Both stores every orchestration scenario runs on. */
export const STORES = ['memory', 'table'] as const;
export type Store = (typeof STORES)[number];

/** The public management API's base path. */
export const MGMT = '/runtime/webhooks/durabletask';

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;

/** The Durable status JSON as the management API returns it (historyEvents with string EventType). */
export type StatusJson = Omit<DevhostStatusJson, 'historyEvents'> & { historyEvents?: Array<Record<string, unknown> & { EventType: string }> };

/** Absolute path of a fixture app under test/fixtures. */
export function fixture(name: string): string {
  return path.resolve(__dirname, '../fixtures', name);
}

/**
 * Starts a test host on a fixture app with the given store and the virtual clock.
 * @example const host = await startFixture('durable-basics', 'memory');
 */
export function startFixture(app: string, storage: Store, more: Partial<TestHostOptions> = {}): Promise<TestHost> {
  return startTestHost({ appDir: fixture(app), storage, clock: 'virtual', ...more });
}

/** A fresh instance id that says which test and store made it. */
export function uid(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** POST with a JSON body (or none) to a path on the host. */
export function postJson(host: TestHost, p: string, body?: unknown): Promise<Response> {
  return host.fetch(p, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Starts an orchestration through the public management API and returns the new instance id. */
export async function startViaHttp(host: TestHost, name: string, input?: unknown, instanceId?: string): Promise<string> {
  const res = await postJson(host, `${MGMT}/orchestrators/${name}${instanceId ? `/${instanceId}` : ''}`, input);
  expect(res.status, await peek(res)).toBe(202);
  const body = (await res.json()) as { id: string };
  return body.id;
}

/** GET instances/{id} on the management API: status code and parsed body. */
export async function statusViaHttp(host: TestHost, id: string, query = ''): Promise<{ code: number; body: StatusJson; res: Response }> {
  const res = await host.fetch(`${MGMT}/instances/${id}${query}`);
  const text = await res.text();
  return { code: res.status, body: (text ? JSON.parse(text) : undefined) as StatusJson, res };
}

/** The history of an instance (showHistory=true), EventType as strings. */
export async function historyOf(host: TestHost, id: string, showHistoryOutput = false): Promise<NonNullable<StatusJson['historyEvents']>> {
  const { code, body } = await statusViaHttp(host, id, `?showHistory=true${showHistoryOutput ? '&showHistoryOutput=true' : ''}`);
  expect(code).toBeLessThan(300);
  expect(Array.isArray(body.historyEvents), JSON.stringify(body)).toBe(true);
  return body.historyEvents ?? [];
}

/** The body text of a response without consuming it, for assertion messages. */
export async function peek(res: Response): Promise<string> {
  return `${res.status} ${await res.clone().text()}`;
}

/**
 * Asserts a host error answer: the status, a JSON `{"error":{"code","message"}}` body, and a message matching each pattern.
 * @example await expectHostError(res, 400, [/instance id/i, /256/]);
 */
export async function expectHostError(res: Response, status: number, patterns: Array<RegExp | string> = []): Promise<{ code: string; message: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type') ?? '', text).toMatch(/application\/json/);
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, text).toBe('string');
  expect(typeof body.error?.message, text).toBe('string');
  const error = body.error as { code: string; message: string };
  for (const p of patterns) {
    if (typeof p === 'string') expect(error.message).toContain(p);
    else expect(error.message).toMatch(p);
  }
  return error;
}

/** Milliseconds between two ISO times. */
export function msBetween(from: string, to: string): number {
  return Date.parse(to) - Date.parse(from);
}
