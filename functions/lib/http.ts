// HTTP plumbing shared by the route handlers: JSON responses, the error envelope, body parsing with zod and
// bearer-token authentication. Every failure becomes `{"error":{"code","message"}}` with a fitting status.
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { GameError, isBackendFailure, isGameError, type ErrorCode } from '../../core/errors';
import { tokenSecret } from '../../core/settings';
import { verifyToken } from '../../core/tokens';

const STATUS: Partial<Record<ErrorCode, number>> = {
  invalid_json: 400,
  invalid_body: 400,
  empty_line: 400,
  control_character: 400,
  invalid_query: 400,
  invalid_name: 400,
  not_plain_json: 400,
  bad_duration: 400,
  missing_token: 401,
  invalid_token: 401,
  expired_token: 401,
  wrong_password: 401,
  missing_operator_key: 401,
  wrong_operator_key: 403,
  operators_disabled: 403,
  task_not_found: 404,
  unknown_command: 404,
  not_found: 404,
  task_finished: 409,
  task_not_controllable: 409,
  too_many_tasks: 409,
  too_many_commands: 409,
  delay_too_long: 409,
  request_in_progress: 409,
  idempotency_key_reused: 422,
  invalid_idempotency_key: 400,
  too_many_attempts: 429,
  rate_limited: 429,
  too_many_signups: 429,
  server_busy: 503,
  body_too_large: 413,
  line_too_long: 413,
  unsupported_media_type: 415,
  answer_unavailable: 503,
  storage_unavailable: 503,
  missing_setting: 503,
};

/**
 * A JSON response.
 *
 * @example
 * return json(202, { kind: 'nomatch' });
 */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'cache-control': 'no-store', ...headers } };
}

/**
 * The error envelope for a thrown value: GameErrors by their code, backend outages 503, anything else (a bug)
 * logged with the invocation id and answered 500.
 *
 * @example
 * catch (err) { return errorResponse(err, context); }
 */
export function errorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  if (isGameError(err)) {
    const status = STATUS[err.code] ?? 500;
    if (status >= 500) context.error(`${err.code}: ${err.message}`);
    const headers: Record<string, string> =
      status === 401
        ? { 'www-authenticate': 'Bearer' }
        : err.retryAfterSeconds !== undefined
          ? { 'retry-after': String(err.retryAfterSeconds) }
          : status === 503
            ? { 'retry-after': '1' }
            : status === 429
              ? { 'retry-after': '60' }
              : {};
    return json(status, { error: { code: err.code, message: err.message } }, headers);
  }
  if (isBackendFailure(err)) {
    // The Durable backend or storage did not answer (a restart, an outage): the request may be retried.
    context.error(`backend unavailable in ${context.functionName} (invocation ${context.invocationId}):`, err);
    return json(503, { error: { code: 'backend_unavailable', message: `The game's backend did not answer (invocation ${context.invocationId}); try again in a moment.` } }, { 'retry-after': '1' });
  }
  context.error(`unexpected error in ${context.functionName} (invocation ${context.invocationId}):`, err);
  return json(500, { error: { code: 'internal', message: `Unexpected server error (invocation ${context.invocationId}); it has been logged.` } });
}

/** A route handler that may throw GameError. */
export type Handler = (req: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * Wraps a handler so every thrown error becomes the JSON error envelope.
 *
 * @example
 * app.http('commands', { route: 'commands', methods: ['GET'], handler: route(async () => json(200, {})) });
 */
export function route(handler: Handler): Handler {
  return async (req, context) => {
    try {
      return await handler(req, context);
    } catch (err) {
      return errorResponse(err, context);
    }
  };
}

/**
 * Reads a JSON body (Content-Type application/json, at most `maxBytes`) and validates it with `schema`.
 *
 * @example
 * const { text } = await readJson(req, z.object({ text: z.string() }));
 */
export async function readJson<S extends z.ZodType>(req: HttpRequest, schema: S, maxBytes = 16 * 1024): Promise<z.infer<S>> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    throw new GameError('unsupported_media_type', `Send the body as JSON with "Content-Type: application/json" (got ${type ? JSON.stringify(type) : 'no content type'}).`);
  }
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new GameError('body_too_large', `The body is ${declared} bytes; this route accepts at most ${maxBytes}.`);
  const text = await readText(req, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new GameError('invalid_json', `The body is not valid JSON (${err instanceof Error ? err.message : 'parse error'}).`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `"${issue.path.join('.')}"` : 'the body';
    throw new GameError('invalid_body', `${where}: ${issue?.message ?? 'invalid'}.`);
  }
  return result.data as z.infer<S>;
}

/**
 * The body as UTF-8 text (a byte order mark dropped, as Request.text() does), read only up to `maxBytes`: with HTTP
 * streams on (functions/lib/app.ts) the body arrives as it is sent, and one without Content-Length (chunked) would
 * otherwise be held in memory whole, however long it goes on, before its size could be refused.
 */
async function readText(req: HttpRequest, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        void reader.cancel().catch(() => undefined);
        throw new GameError('body_too_large', `The body is over ${maxBytes} bytes; this route accepts at most ${maxBytes}.`);
      }
      chunks.push(value);
    }
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * The player a request is from: only from its `Authorization: Bearer <token>` header.
 *
 * @example
 * const player = authenticate(req);
 */
export function authenticate(req: HttpRequest): string {
  const header = req.headers.get('authorization');
  if (!header) throw new GameError('missing_token', 'This route needs "Authorization: Bearer <token>"; get a token from POST /api/sessions.');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new GameError('invalid_token', 'The Authorization header must be "Bearer <token>".');
  return verifyToken(m[1], { secret: tokenSecret(), nowMs: Date.now() });
}

