// Activity failures with the exception-properties provider: the host lifts the SDK's JSON into TaskFailed's
// FailureDetails, so the orchestrator catches a TaskFailedError with type, message and custom properties.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from './index';

describe('FailureDetails from the exception-properties provider', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ appDir: path.resolve(__dirname, '../test/fixtures/failure-details-app') });
  });
  afterAll(() => host?.dispose());

  it('reaches the orchestrator as a TaskFailedError with the custom properties', async () => {
    const id = await host.client().startNew('order', { input: 'swords' });
    const done = await host.waitFor(id);
    expect(done.output).toEqual({
      name: 'TaskFailedError',
      message: 'OutOfStockError: no swords left',
      type: 'OutOfStockError',
      properties: { item: 'swords', retryable: false },
      causedBy: true,
    });
  });

  it('leaves errors the provider ignores as plain Reason/Details errors', async () => {
    const id = await host.client().startNew('plain');
    const done = await host.waitFor(id);
    expect(done.output).toEqual({ name: 'Error', hasDetails: false, message: "Activity function 'plainFailure' failed: plain boom " });
  });
});
