// Public surface of the devhost: the host, its test kit, and the types a caller needs.
export { Host } from './host';
export type { HostOptions } from './host';
export { startTestHost } from './testkit';
export type { TestHost, TestHostOptions, DurableClientLike } from './testkit';
export type { StatusJson } from './durable/status';
export type { HostLogEntry } from './invoke';
export { HostError } from './errors';
export type { HostErrorCode } from './errors';
export { parseDuration } from './clock';
export { MemoryStore } from './store/memory';
export type { Store, InstanceMeta, HistoryEvent, InboxMessage, RuntimeStatus } from './store/types';
