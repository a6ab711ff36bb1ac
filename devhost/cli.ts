#!/usr/bin/env node
// The `devhost` command: runs any Azure Functions Node app folder locally, like `func start`:
//   devhost [appDir] --port 7071 --storage memory|table --clock real|virtual [--azurite] [--task-hub NAME]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Host } from './host';
import { portOpen, RunningAzurite, startAzurite } from './azurite';
import { messageOf } from './errors';

const HELP = `Usage: devhost [appDir] [options]

Runs an Azure Functions (Node, programming model v4) app with Durable Functions locally.

Options:
  --port <n>            port to listen on (default 7071)
  --storage <kind>      memory (default; nothing survives a restart) or table
                        (Azure Table Storage from AzureWebJobsStorage; Azurite locally)
  --clock <kind>        real (default) or virtual (time jumps to the next timer when idle)
  --azurite             with --storage table: start Azurite too when AzureWebJobsStorage
                        is unset or UseDevelopmentStorage=true and none is running
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
  return {
    appDir: path.resolve(positionals[0] ?? '.'),
    port,
    storage: storage as Args['storage'],
    clock: clock as Args['clock'],
    azurite: !!values.azurite,
    taskHub: values['task-hub'],
    maxBody,
    quiet: !!values.quiet,
  };
}

/** App settings from local.settings.json (or, on a fresh clone, local.settings.example.json), as Core Tools loads them. */
function loadLocalSettings(appDir: string, say: (s: string) => void): void {
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

/** Start Azurite on its default ports with data under <appDir>/.azurite, unless one already answers. */
async function startLocalAzurite(appDir: string, say: (s: string) => void): Promise<RunningAzurite | undefined> {
  if (await portOpen(10002)) {
    say('Azurite is already running on 127.0.0.1:10002; using it.');
    return undefined;
  }
  const location = path.join(appDir, '.azurite');
  fs.mkdirSync(location, { recursive: true });
  const azurite = await startAzurite({ location, ports: { blob: 10000, queue: 10001, table: 10002 }, resolveFrom: appDir });
  say(`Azurite started (data in ${path.relative(process.cwd(), location) || location}).`);
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
      if (args.azurite) azurite = await startLocalAzurite(args.appDir, say);
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

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping...`);
    await host.close().catch(() => undefined);
    await stopAzurite();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

void main().catch((err: unknown) => {
  process.stderr.write(`devhost: ${messageOf(err)}\n`);
  process.exit(1);
});
