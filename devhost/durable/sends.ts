// Messages an instance sends to another one (entity requests and replies, lock hand-offs and releases). They are
// written with the sender's commit and delivered after it, each with a fixed message id, so a delivery repeated
// after a crash lands on the same inbox row; an entity also skips request ids it has already processed.
import { randomUUID } from 'node:crypto';
import { event, EventType, iso } from './history';
import { EngineState, Outgoing, Plan } from './state';

/**
 * Records a message to send once the plan's commit is stored.
 * @example queueSend(plan, '@counter@k', 'op', { op: 'add', input: '1', id, parent: 'orch-1' });
 */
export function queueSend(plan: Plan, to: string, name: string, payload: unknown, executionId?: string): void {
  const o = outgoing(plan.now, to, name, payload, executionId);
  plan.st.outbox.push(o);
  plan.effects.push({ kind: 'send', msgId: o.msgId });
}

let sequence = 0;

/**
 * An outgoing EventRaised message with a fresh message id that sorts in send order (time, then a counter), so a
 * receiver that reloads its inbox from the store still takes each sender's messages in the order sent.
 */
export function outgoing(now: number, to: string, name: string, payload: unknown, executionId?: string): Outgoing {
  const msgId = `${String(now).padStart(15, '0')}-${String(sequence++ % 1e9).padStart(9, '0')}-${randomUUID().slice(0, 8)}`;
  return { to, executionId, msgId, event: event(EventType.EventRaised, iso(now), { Name: name, Input: JSON.stringify(payload) }) };
}

/** The state without the messages already delivered (so a commit does not store them again). */
export function withoutDelivered(st: EngineState, delivered: Set<string> | undefined): EngineState {
  if (!delivered || delivered.size === 0 || st.outbox.length === 0) return st;
  st.outbox = st.outbox.filter((o) => !delivered.has(o.msgId));
  return st;
}
