// Registers the Durable orchestrators: command (interactive and loop commands), delay and runAsync.
import './lib/app';
import * as df from 'durable-functions';
import { fn } from '../core/names';
import { commandOrchestrator } from '../orchestrations/command';
import { delayOrchestrator } from '../orchestrations/delay';
import { runAsyncOrchestrator } from '../orchestrations/runAsync';

df.app.orchestration(fn.commandOrchestrator, commandOrchestrator);
df.app.orchestration(fn.delayOrchestrator, delayOrchestrator);
df.app.orchestration(fn.runAsyncOrchestrator, runAsyncOrchestrator);
