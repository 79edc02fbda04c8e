// PatchError: a failed PATCH as kube-apiserver reports it — the HTTP code, the Status
// reason and the Status message its handler (k8s.io/apiserver pkg/endpoints/handlers/
// patch.go) produces for each failure, plus the underlying library error as `detail`.

/** metav1.StatusReason values a PATCH can fail with ('' is StatusReasonUnknown). */
export type PatchErrorReason =
  'BadRequest' | 'Invalid' | 'UnsupportedMediaType' | 'RequestEntityTooLarge' | '';

/** metav1.StatusCause. */
export interface PatchStatusCause {
  reason: string;
  message: string;
  field: string;
}

/** metav1.StatusDetails, as far as a PATCH failure fills it in. */
export interface PatchStatusDetails {
  causes?: PatchStatusCause[];
}

/** The metav1.Status body the API server answers with. */
export interface PatchStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason?: PatchErrorReason;
  details?: PatchStatusDetails;
  code: number;
}

export class PatchError extends Error {
  override readonly name = 'PatchError';
  /** The Status reason: BadRequest (400), Invalid (422), UnsupportedMediaType (415), RequestEntityTooLarge (413), or '' (500, an error the server does not classify). */
  readonly reason: PatchErrorReason;
  /** The HTTP status code. */
  readonly code: number;
  /**
   * The underlying patch library's error. For JSON patch failures the API server's
   * message is a generic sentence and this is the only place the cause is named.
   */
  readonly detail: string;
  /** Status.details, when the API server's Status has them. */
  readonly details: PatchStatusDetails | undefined;

  constructor(
    reason: PatchErrorReason,
    code: number,
    message: string,
    detail?: string,
    details?: PatchStatusDetails,
  ) {
    super(message);
    this.reason = reason;
    this.code = code;
    this.detail = detail ?? message;
    this.details = details;
  }

  /** The Status the API server would answer with. */
  toStatus(): PatchStatus {
    const s: PatchStatus = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      code: this.code,
    };
    if (this.reason !== '') s.reason = this.reason;
    if (this.details !== undefined) s.details = structuredClone(this.details);
    return s;
  }
}

/** errors.NewBadRequest(message): 400 BadRequest. */
export function badRequest(message: string): PatchError {
  return new PatchError('BadRequest', 400, message);
}

/**
 * errors.NewGenericServerResponse(422, …) as the handler builds it for a JSON patch
 * that fails to apply (and for SMP's "lists of lists" / retainKeys mismatch): the
 * server's own message is dropped and the Status carries this fixed sentence.
 */
export function unprocessable(detail: string): PatchError {
  return new PatchError(
    'Invalid',
    422,
    'the server rejected our request due to an error in our request',
    detail,
    {},
  );
}

/**
 * errors.NewInvalid(schema.GroupKind{}, "", field.Invalid(field.NewPath("patch"), value, detail)):
 * how the handler reports a patched object that cannot be decoded (strict decoding).
 * The kind and name are empty, hence the message's odd start (`%s %q is invalid` of two
 * empty strings); kubectl prints the cause: `The request is invalid: patch: …`.
 */
export function invalidPatch(value: string, detail: string): PatchError {
  const body = `Invalid value: ${JSON.stringify(value)}: ${detail}`;
  return new PatchError('Invalid', 422, ` "" is invalid: patch: ${body}`, detail, {
    causes: [{ reason: 'FieldValueInvalid', message: body, field: 'patch' }],
  });
}

/**
 * An error the handler passes through unclassified: ErrorToAPIStatus turns it into a
 * 500 with reason '' (StatusReasonUnknown) and the error text as the message. This is
 * what kube-apiserver answers for most strategic-merge-patch errors (missing merge
 * key, unknown $patch value, mismatched list element types).
 */
export function unclassified(message: string): PatchError {
  return new PatchError('', 500, message);
}

/** errors.NewRequestEntityTooLargeError(message): 413. */
export function tooLarge(message: string): PatchError {
  return new PatchError(
    'RequestEntityTooLarge',
    413,
    `Request entity too large: ${message}`,
    message,
  );
}

/** negotiation.NewUnsupportedMediaTypeError(accepted): 415. */
export function unsupportedMediaType(accepted: readonly string[]): PatchError {
  return new PatchError(
    'UnsupportedMediaType',
    415,
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}
