// What a failed callback looks like once it has crossed the Durable boundary: the callback's own message, recovered
// from the host's failure text. Pure, so orchestrators can use it.
import { describeError } from './errors';

/** The error a failed callback reports to atErr: the callback's own message. */
export interface CallbackError {
  name: string;
  message: string;
}

/**
 * The callback's own message from the error an orchestrator catches when a callback activity fails
 * (real host: "Activity function 'cb_x' failed: <message> \n <details>"; structured FailureDetails when present).
 *
 * @example
 * catch (err) { const { message } = callbackErrorOf(err); }
 */
export function callbackErrorOf(err: unknown): CallbackError {
  if (err && typeof err === 'object' && 'failureDetails' in err) {
    const d = (err as { failureDetails?: { errorType?: string; errorMessage?: string } }).failureDetails;
    if (d?.errorMessage !== undefined) return { name: d.errorType ?? 'Error', message: d.errorMessage };
  }
  const text = err instanceof Error ? err.message : describeError(err);
  const reason = text.split(' \n ')[0];
  const m = /^Activity function '[^']*' failed: ([\s\S]*)$/.exec(reason);
  const message = (m ? m[1] : reason).replace(/^(?:Error|GameError): /, '');
  return { name: err instanceof Error && err.name !== 'Error' ? err.name : 'Error', message };
}
