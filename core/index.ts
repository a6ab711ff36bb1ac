// The public surface of the game toolkit: what game/ code imports. Everything else in core/ is internal.
export { command, interactive, loop, again, stop, callback, allCommands, findCommand } from './registry';
export type { CommandDef, CommandOptions, PlainCommand, Interactive, InteractiveBody, Loop, LoopNext, Callback, CallbackRef, CallbackContext, CallbackFn, YieldResult } from './registry';
export { delay, runAsync, listTasks, startCommand, TaskHandle } from './tasks';
export type { RunAsyncOptions, TaskInfo, TaskState } from './tasks';
export { sleep, ask, Step } from './steps';
export type { AskOptions, RetryPolicy, DurableContext } from './steps';
export type { Caller, Cmd } from './context';
export type { CallbackError } from './callbackError';
export type { Json } from './json';
export type { Duration } from './duration';
export { GameError, isGameError } from './errors';
export type { ErrorCode } from './errors';
