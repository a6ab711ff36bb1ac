#!/usr/bin/env node
// The `devhost` command: runs any Azure Functions Node app folder locally, like `func start`:
//   devhost [appDir] --port 7071 --storage memory|table --clock real|virtual [--azurite] [--task-hub NAME]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Host } from './host';
import { portOpen, RunningAzurite, startAzurite } from './azurite';
import { messageOf } from './errors';
import { prepareLocalSettings } from './local-settings';

const HELP = `Usage: devhost [appDir] [options]

Runs an Azure Functions (Node, programming model v4) app with Durable Functions locally.

Options:
  --port <n>            port to listen on (default 7071)
  --storage <kind>      memory (default; nothing survives a restart) or table
                        (Azure Table Storage from AzureWebJobsStorage; Azurite locally)
  --clock <kind>        real (default) or virtual (time jumps to the next timer when idle)
  --azurite             with --storage table: start Azurite too when AzureWebJobsStorage
                        is unset or UseDevelopmentStorage=true and none is running
  --azurite-dir <dir>   where that Azurite keeps its data (default <appDir>/.azurite)
  --azurite-ports <b,q,t>  its blob, queue and table ports (default 10000,10001,10002;
                        0,0,0 lets the OS choose)
  --task-hub <name>     task hub name (default: host.json durableTask.hubName)
  --max-body <bytes>    largest accepted request body (default 104857600)
  --quiet               print only errors
  -h, --help            this text
`;

interface Args {
  appDir: string;
  port: number;
  storage: 'memory' | 'table';
  clock: 'real' | 'virtual';
  azurite: boolean;
  azuriteDir?: string;
  azuritePorts: { blob: number; queue: number; table: number };
  taskHub?: string;
  maxBody?: number;
  quiet: boolean;
}

function parse(argv: string[]): Args {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      storage: { type: 'string' },
      clock: { type: 'string' },
      azurite: { type: 'boolean' },
      'azurite-dir': { type: 'string' },
      'azurite-ports': { type: 'string' },
      'task-hub': { type: 'string' },
      'max-body': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const fail = (msg: string): never => {
    process.stderr.write(`devhost: ${msg}\n\n${HELP}`);
    process.exit(2);
  };
  const port = values.port === undefined ? 7071 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port '${values.port}' is not a port number (0-65535).`);
  const storage = values.storage ?? 'memory';
  if (storage !== 'memory' && storage !== 'table') fail(`--storage '${storage}' is not memory or table.`);
  const clock = values.clock ?? 'real';
  if (clock !== 'real' && clock !== 'virtual') fail(`--clock '${clock}' is not real or virtual.`);
  const maxBody = values['max-body'] === undefined ? undefined : Number(values['max-body']);
  if (maxBody !== undefined && (!Number.isInteger(maxBody) || maxBody <= 0)) fail(`--max-body '${values['max-body']}' is not a positive number of bytes.`);
  if (positionals.length > 1) fail(`expected one app folder, got ${positionals.join(' ')}.`);
  const azPorts = (values['azurite-ports'] ?? '10000,10001,10002').split(',').map(Number);
  if (azPorts.length !== 3 || azPorts.some((n) => !Number.isInteger(n) || n < 0 || n > 65535)) {
    fail(`--azurite-ports '${values['azurite-ports']}' is not three port numbers (blob,queue,table), e.g. 10000,10001,10002 or 0,0,0.`);
  }
  return {
    appDir: path.resolve(positionals[0] ?? '.'),
    port,
    storage: storage as Args['storage'],
    clock: clock as Args['clock'],
    azurite: !!values.azurite,
    azuriteDir: values['azurite-dir'] === undefined ? undefined : path.resolve(values['azurite-dir']),
    azuritePorts: { blob: azPorts[0], queue: azPorts[1], table: azPorts[2] },
    taskHub: values['task-hub'],
    maxBody,
    quiet: !!values.quiet,
  };
}

/** App settings from local.settings.json (or, on a fresh clone, local.settings.example.json), as Core Tools loads them. */
function loadLocalSettings(appDir: string, say: (s: string) => void): void {
  prepareLocalSettings(appDir, process.env, say); // a fresh clone gets its own random secrets, never the example's
  for (const name of ['local.settings.json', 'local.settings.example.json']) {
    const file = path.join(appDir, name);
    if (!fs.existsSync(file)) continue;
    try {
      const values = (JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, string> }).Values ?? {};
      for (const [k, v] of Object.entries(values)) if (process.env[k] === undefined) process.env[k] = String(v);
      say(`App settings from ${name}${name.includes('example') ? ' (copy it to local.settings.json to change them)' : ''}.`);
    } catch (err) {
      say(`Ignoring ${name}: ${messageOf(err)}`);
    }
    return;
  }
}

/**
 * Start Azurite with its data in --azurite-dir (default <appDir>/.azurite), unless one already answers on the
 * table port. Returns the connection string of the one started (explicit endpoints, so any ports work).
 */
async function startLocalAzurite(args: Args, say: (s: string) => void): Promise<RunningAzurite | undefined> {
  if (args.azuritePorts.table !== 0 && (await portOpen(args.azuritePorts.table))) {
    say(`Azurite is already running on 127.0.0.1:${args.azuritePorts.table}; using it.`);
    return undefined;
  }
  const location = args.azuriteDir ?? path.join(args.appDir, '.azurite');
  fs.mkdirSync(location, { recursive: true });
  const azurite = await startAzurite({ location, ports: args.azuritePorts, resolveFrom: args.appDir });
  const shown = path.relative(process.cwd(), location);
  say(`Azurite started (data in ${shown && !shown.startsWith('..') ? shown : location}, table port ${azurite.ports.table}).`);
  return azurite;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const say = (s: string) => {
    if (!args.quiet) process.stdout.write(`${s}\n`);
  };
  loadLocalSettings(args.appDir, say);
  let azurite: RunningAzurite | undefined;
  if (args.storage === 'table') {
    const conn = process.env.AzureWebJobsStorage;
    if (!conn || /UseDevelopmentStorage=true/i.test(conn)) {
      process.env.AzureWebJobsStorage = 'UseDevelopmentStorage=true';
      if (args.azurite) azurite = await startLocalAzurite(args, say);
      if (azurite) process.env.AzureWebJobsStorage = azurite.connectionString;
    }
  }
  const stopAzurite = () => azurite?.stop();
  let host: Host;
  try {
    host = await Host.start({
      appDir: args.appDir,
      port: args.port,
      storage: args.storage,
      clock: args.clock,
      autoSkip: args.clock === 'virtual',
      taskHub: args.taskHub,
      maxBodyBytes: args.maxBody,
      onLog: (e) => {
        if (args.quiet && e.level !== 'error') return;
        const where = e.functionName ? ` ${e.functionName}${e.invocationId ? ` (${e.invocationId})` : ''}` : '';
        const out = e.level === 'error' || e.level === 'critical' ? process.stderr : process.stdout;
        out.write(`[${e.time}] ${e.level}${where}: ${e.message}\n`);
      },
      onStopped: (why) => {
        process.stderr.write(`devhost: stopped: ${why}\n`);
        void Promise.resolve(stopAzurite()).finally(() => process.exit(1));
      },
      onInvocation: (i) => {
        if (!args.quiet) say(`[${new Date().toISOString()}] Executed 'Functions.${i.functionName}' (${i.result}, Reason='${i.reason}', Id=${i.invocationId || '-'}, Duration=${i.ms}ms)`);
      },
    });
  } catch (err) {
    await stopAzurite();
    process.stderr.write(`devhost: ${messageOf(err)}\n`);
    process.exit(1);
  }
  say(`\nFunctions (${args.storage} store, ${args.clock} clock, task hub ${host.taskHub}):\n`);
  for (const line of host.describe()) say(`        ${line}`);
  say(`\nManagement API: ${host.displayUrl}/runtime/webhooks/durabletask/instances\nHost started. Press Ctrl+C to stop.`);

  // Stop in order, whatever the signal: the host drains (running episodes and activities finish, within a bound)
  // and closes its store, then Azurite saves and exits. Azurite runs in its own process group, so the Ctrl+C a
  // terminal sends to the whole foreground group (npm, the shell, this process) does not reach it first. npm
  // forwards the signal it got to its child as well, so a repeat within a second is the same Ctrl+C; a later one
  // stops waiting for running work (whatever did not finish runs again at the next start), but keeps the order.
  let firstSignalAt = 0;
  const stop = async (signal: string) => {
    const now = Date.now();
    if (firstSignalAt) {
      if (now - firstSignalAt < 1000) return;
      say(`${signal} again: not waiting for running work; still closing the store${azurite ? ' and saving Azurite' : ''}...`);
      host.stopWaiting();
      return;
    }
    firstSignalAt = now;
    say(`\n${signal}: stopping (running work finishes first${azurite ? ', then Azurite saves its data' : ''})...`);
    await host.close().catch((err: unknown) => process.stderr.write(`devhost: closing the host: ${messageOf(err)}\n`));
    if (azurite) {
      await stopAzurite();
      say('Azurite stopped.');
    }
    say('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
}

void main().catch((err: unknown) => {
  process.stderr.write(`devhost: ${messageOf(err)}\n`);
  process.exit(1);
});
