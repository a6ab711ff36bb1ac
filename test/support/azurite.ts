// Azurite for tests: the devhost's starter (a private in-memory Azurite on OS-chosen ports), plus
// `azuriteConnectionString()`, which tests call to reach the one the global setup started.
export { startAzurite, AZURITE_ACCOUNT, AZURITE_KEY } from '../../devhost/azurite';
export type { RunningAzurite } from '../../devhost/azurite';

/**
 * The connection string of the Azurite that test/support/global-setup.ts started for this run.
 * @example const store = new TableStore({ connectionString: azuriteConnectionString(), taskHub: 'T1' });
 */
export function azuriteConnectionString(): string {
  const cs = process.env.AzureWebJobsStorage;
  if (!cs) {
    throw new Error(
      'No Azurite for this test run: AzureWebJobsStorage is not set. Run the tests with vitest (vitest.config.ts ' +
        'names test/support/global-setup.ts as globalSetup), or start one yourself with startAzurite().',
    );
  }
  return cs;
}
