// vitest globalSetup: starts one Azurite for the whole test run and points AzureWebJobsStorage at it
// (forked test workers inherit the variable; it is also provided as `inject('azuriteConnectionString')`).
import type { TestProject } from 'vitest/node';
import { startAzurite } from './azurite';

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}

/**
 * Starts Azurite before the first test file and stops it after the last.
 * @example // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['test/support/global-setup.ts'] } });
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite = await startAzurite();
  const previous = process.env.AzureWebJobsStorage;
  process.env.AzureWebJobsStorage = azurite.connectionString;
  project.provide('azuriteConnectionString', azurite.connectionString);
  return async () => {
    if (previous === undefined) delete process.env.AzureWebJobsStorage;
    else process.env.AzureWebJobsStorage = previous;
    await azurite.stop();
  };
}
