// Placeholder: starts Azurite for the test run (filled in by the table-store work).
export default async function setup(): Promise<void> {}
