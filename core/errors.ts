// The one error class of the toolkit: every failure carries a stable `code` that HTTP answers,
// outbox messages and tests match on (never `instanceof` once a value has crossed the Durable boundary).

/** Stable error codes. Each names one mistake; the message names the value and the fix. */
export type ErrorCode =
  /** The request body is not valid JSON. */
  | 'invalid_json'
  /** The request body is JSON but not the expected shape. */
  | 'invalid_body'
  /** The request has a content type other than application/json. */
  | 'unsupported_media_type'
  /** The request body is larger than the route accepts. */
  | 'body_too_large'
  /** A typed line is empty (or only whitespace). */
  | 'empty_line'
  /** A typed line is longer than 4 KiB once UTF-8 encoded. */
  | 'line_too_long'
  /** A typed line contains a control character. */
  | 'control_character'
  /** A query parameter is out of range or malformed. */
  | 'invalid_query'
  /** A player name is not 2-32 letters, digits, '_' or '-'. */
  | 'invalid_name'
  /** No `Authorization: Bearer <token>` header. */
  | 'missing_token'
  /** The token's signature or format is wrong. */
  | 'invalid_token'
  /** The token is past its expiry time. */
  | 'expired_token'
  /** The password does not match the account. */
  | 'wrong_password'
  /** An operator route without `Authorization: Bearer <GAME_OPERATOR_KEY>`. */
  | 'missing_operator_key'
  /** An operator route with a key that is not GAME_OPERATOR_KEY (a player's token included). */
  | 'wrong_operator_key'
  /** Operator routes are off: this app has no GAME_OPERATOR_KEY (only possible off Azure). */
  | 'operators_disabled'
  /** Too many wrong passwords for this account lately: sign-in waits (Retry-After). */
  | 'too_many_attempts'
  /** Too many new accounts from one client address lately: sign-up waits (Retry-After). */
  | 'too_many_signups'
  /** The server is at its limit of concurrent password checks: try again shortly (Retry-After). */
  | 'server_busy'
  /** No such task for this player (other players' tasks are reported the same way). */
  | 'task_not_found'
  /** The task has already finished (fired, cancelled, completed or failed). */
  | 'task_finished'
  /** The task exists but cannot do what was asked (e.g. pause a background job). */
  | 'task_not_controllable'
  /** The instance behind a prompt could not be reached; the line was not accepted. */
  | 'answer_unavailable'
  /** A value passed to delay/runAsync/callback is not plain JSON. */
  | 'not_plain_json'
  /** A callback name is not registered with callback(). */
  | 'unknown_callback'
  /** No command is registered under that key. */
  | 'unknown_command'
  /** A callback or command name is malformed or registered twice. */
  | 'bad_registration'
  /** A duration is not a non-negative number of seconds or a string like "5s", "2m". */
  | 'bad_duration'
  /** An interactive command yielded something that is not a number, string, step or Durable task. */
  | 'bad_yield'
  /** A toolkit function was used where it cannot work (e.g. awaiting a step inside interactive()). */
  | 'wrong_context'
  /** A message is longer than the outbox accepts. */
  | 'message_too_long'
  /** ctx.progress() got a fraction outside 0..1, or a note that is not a short string. */
  | 'bad_progress'
  /** A required app setting is missing. */
  | 'missing_setting'
  /** A registered callback threw; the wrapped message is the callback's own. */
  | 'callback_failed'
  /** Table storage or the Durable host did not answer. */
  | 'storage_unavailable'
  /** The player sends lines faster than GAME_INPUT_RATE / GAME_INPUT_BURST allow (Retry-After says when to resend). */
  | 'rate_limited'
  /** The player already has GAME_MAX_TASKS_PER_PLAYER live delays and background jobs. */
  | 'too_many_tasks'
  /** The player already has GAME_MAX_COMMANDS_PER_PLAYER interactive commands running. */
  | 'too_many_commands'
  /** A delay (or a runAsync retry wait) is longer than GAME_MAX_DELAY_SECONDS. */
  | 'delay_too_long'
  /** A request with this Idempotency-Key is still being handled (Retry-After says when to ask again). */
  | 'request_in_progress'
  /** An Idempotency-Key was used before with a different line. */
  | 'idempotency_key_reused'
  /** The Idempotency-Key header is empty, too long or not printable ASCII. */
  | 'invalid_idempotency_key'
  /** A route that does not exist. */
  | 'not_found';

/**
 * The toolkit's error. `code` is stable; `message` says what was wrong and how to fix it.
 *
 * @example
 * throw new GameError('bad_duration', `delay() got -5 seconds; use a number >= 0 or a string like "5s"`);
 */
export class GameError extends Error {
  readonly code: ErrorCode;
  /** For errors that pass with time (too_many_attempts, rate_limited, ...): seconds until trying again makes sense. */
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.name = 'GameError';
    this.code = code;
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * True when `err` is a GameError, matched by shape (works after JSON round trips and across module copies).
 *
 * @example
 * if (isGameError(err, 'unknown_callback')) { ... }
 */
export function isGameError(err: unknown, code?: ErrorCode): err is GameError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  return e.name === 'GameError' && typeof e.code === 'string' && (code === undefined || e.code === code);
}

/**
 * Describes any thrown value as `name: message` text, for logs and player messages.
 *
 * @example
 * describeError(new TypeError('x is undefined')) // "TypeError: x is undefined"
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}

/** Longest error text quoted in a player message (a message may hold at most 16 KiB). */
const MAX_QUOTED_ERROR = 1000;

/**
 * The message a player gets when their command throws, Evennia's wording; a long error is shortened so the notice
 * itself always fits in a message.
 *
 * @example
 * untrappedNotice('dig', 'no shovel') // "An untrapped error occurred in 'dig': no shovel"
 */
export function untrappedNotice(key: string, message: string): string {
  const shown = message.length > MAX_QUOTED_ERROR ? `${message.slice(0, MAX_QUOTED_ERROR)}…` : message;
  return `An untrapped error occurred in '${key}': ${shown}`;
}

/** True for failures to reach the Durable extension or storage (network errors, 5xx from them), not for bugs. */
export function isBackendFailure(err: unknown): boolean {
  const e = err as { isAxiosError?: unknown; name?: unknown; code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.isAxiosError === true || e.name === 'RestError') return true;
  const text = `${String(e.code ?? '')} ${String(e.message ?? '')}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|socket hang up|fetch failed|unexpected status code: 5\d\d|replied with HTTP 5\d\d/.test(text);
}
