// The parity contract (Miniflare's habit): one set of scenarios, written once against HTTP, run on devhost with each
// store and on a real Functions host (`func start` of test/fixtures/contract-app) when FUNC_BASE_URL is set. Where
// devhost answers differently on purpose, the scenario names both answers and the README's differences table has
// the row; no check is loosened to make the two agree.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { appHttpScenarios } from './app-http.scenarios';
import { durableScenarios } from './durable.scenarios';
import { entityScenarios } from './entities.scenarios';
import { managementScenarios } from './management.scenarios';
import { contractTargets, funcBaseUrl, FUNC_NOT_SET, type Target } from './target';

describe.each(contractTargets().map((spec) => [spec.name, spec] as const))('parity contract on %s', (_name, spec) => {
  let opened: { target: Target; close(): Promise<void> } | undefined;
  beforeAll(async () => {
    opened = await spec.open();
  });
  afterAll(async () => {
    await opened?.close();
  });
  const target = (): Target => {
    if (!opened) throw new Error(`${spec.name} did not start`);
    return opened.target;
  };

  // A real host takes seconds per step (queue polling); devhost milliseconds.
  const timeout = spec.kind === 'func' ? 180_000 : 60_000;
  describe('app loading and HTTP triggers', { timeout }, () => appHttpScenarios(target, spec));
  describe('management API', { timeout }, () => managementScenarios(target, spec));
  describe('timers, episodes, versioning', { timeout }, () => durableScenarios(target, spec));
  describe('entities', { timeout }, () => entityScenarios(target, spec));
});

if (!funcBaseUrl()) {
  describe.skip(FUNC_NOT_SET, () => {
    it('runs every scenario against the real host too', () => undefined);
  });
}
