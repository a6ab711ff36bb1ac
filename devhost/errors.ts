// The devhost's error type: a stable `code`, the HTTP status it maps to, and a message that names
// the offending value and the fix. Every HTTP error the host produces is `{"error":{"code","message"}}`.

/** Stable error codes of the devhost. */
export type HostErrorCode =
  /** The request body is not valid JSON. */
  | 'InvalidJson'
  /** The request's Content-Type is not what the route accepts. */
  | 'UnsupportedMediaType'
  /** Like UnsupportedMediaType, answered with 400 where the Durable extension does so (raiseEvent). */
  | 'InvalidContentType'
  /** A body over the host's limit. */
  | 'PayloadTooLarge'
  /** An instance id breaks the Durable rules (slashes, ?, #, control characters, leading @, over 256 chars). */
  | 'InvalidInstanceId'
  /** A query parameter or route value has the wrong form. */
  | 'InvalidArgument'
  /** No function with that name, or not of the needed kind. */
  | 'UnknownFunction'
  /** No route or instance matches. */
  | 'NotFound'
  /** The route exists but not for this method. */
  | 'MethodNotAllowed'
  /** The instance already finished. */
  | 'Gone'
  /** An instance with that id is still running. */
  | 'Conflict'
  /** A feature the devhost does not implement. */
  | 'NotImplemented'
  /** A function threw. */
  | 'FunctionError'
  /** A fault of the host itself (a bug): reported as 500 with the message. */
  | 'Internal'
  /** A registration outside app start-up, a duplicate name, ... */
  | 'Registration';

const STATUS: Record<HostErrorCode, number> = {
  InvalidJson: 400,
  UnsupportedMediaType: 415,
  InvalidContentType: 400,
  PayloadTooLarge: 413,
  InvalidInstanceId: 400,
  InvalidArgument: 400,
  UnknownFunction: 400,
  NotFound: 404,
  MethodNotAllowed: 405,
  Gone: 410,
  Conflict: 409,
  NotImplemented: 501,
  FunctionError: 500,
  Internal: 500,
  Registration: 500,
};

/**
 * An error with a stable code and the HTTP status it answers with.
 * @example throw new HostError('InvalidInstanceId', "Instance id 'a/b' contains '/'.");
 */
export class HostError extends Error {
  readonly status: number;
  constructor(readonly code: HostErrorCode, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HostError';
    this.status = STATUS[code];
  }
  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
