// Failures as the API server returns them: a metav1.Status with reason, code and
// details, so kubectl prints its usual `Error from server (NotFound): ...` lines.
import { ApiError } from '../control/errors.ts';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An error the server answers with; `ApiError` from the store maps onto it. */
export class HttpStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

export const badRequest = (message: string): HttpStatusError =>
  new HttpStatusError(400, 'BadRequest', message);

export const notFoundPath = (): HttpStatusError =>
  new HttpStatusError(404, 'NotFound', 'the server could not find the requested resource');

export const methodNotAllowed = (method: string): HttpStatusError =>
  new HttpStatusError(
    405,
    'MethodNotAllowed',
    `the server does not allow this method on the requested resource`,
    {
      causes: [{ reason: 'MethodNotAllowed', message: method }],
    },
  );

export function statusObject(err: HttpStatusError): Record<string, unknown> {
  const out: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
  };
  if (err.details !== undefined) out['details'] = err.details;
  out['code'] = err.code;
  return out;
}

export const successStatus = (details?: StatusDetails): Record<string, unknown> => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Success',
  ...(details === undefined ? {} : { details }),
});

/** The store's ApiError (or anything thrown) as an HttpStatusError. */
export function toHttpError(err: unknown, details?: StatusDetails): HttpStatusError {
  if (err instanceof HttpStatusError) return err;
  if (err instanceof ApiError) {
    const reason = err.reason === 'InternalError' ? 'InternalError' : err.reason;
    return new HttpStatusError(err.code, reason, err.message, details);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new HttpStatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}
