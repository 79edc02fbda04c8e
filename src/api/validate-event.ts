// core/v1 Event validation (pkg/apis/core/validation ValidateEventCreate and
// legacyValidateEvent), enough for events kubectl or a client creates by hand.

import { invalid, required } from './errors.ts';
import type { FieldError } from './errors.ts';
import { isDNS1123Subdomain, isQualifiedName } from './names.ts';
import { validateObjectMeta } from './validate-meta.ts';
import type { Event } from './types.ts';

/** ReportingInstanceLengthLimit, ActionLengthLimit, ReasonLengthLimit, NoteLengthLimit. */
const INSTANCE_MAX = 128;
const ACTION_MAX = 128;
const REASON_MAX = 128;
const NOTE_MAX = 1024;

const atMost = (n: number): string => `can have at most ${n} characters`;

export function validateEvent(ev: Event): FieldError[] {
  const errs = validateObjectMeta(ev.metadata, isDNS1123Subdomain, true);
  const ns = ev.metadata.namespace ?? '';
  const involvedNs = ev.involvedObject.namespace ?? '';
  const nsPath = ['involvedObject', 'namespace'];
  const mismatch = 'does not match event.namespace';
  for (const k of ['firstTimestamp', 'lastTimestamp', 'eventTime'] as const) {
    const v: unknown = ev[k];
    if (v !== undefined && v !== null && typeof v !== 'number') {
      errs.push(invalid([k], v, 'must be an RFC 3339 time'));
    }
  }
  if (ev.eventTime === undefined || ev.eventTime === null) {
    // An old-style event: its namespace and the involved object's agree.
    if (involvedNs === '') {
      if (ns !== '' && ns !== 'default') errs.push(invalid(nsPath, involvedNs, mismatch));
    } else if (ns !== involvedNs) {
      errs.push(invalid(nsPath, involvedNs, mismatch));
    }
    return errs;
  }
  // A new-style event (eventTime set), as events.k8s.io/v1 writes them.
  if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system') {
    errs.push(invalid(nsPath, involvedNs, mismatch));
  }
  const controller = ev.reportingComponent ?? '';
  if (controller === '') errs.push(required(['reportingComponent']));
  else {
    for (const m of isQualifiedName(controller)) {
      errs.push(invalid(['reportingComponent'], controller, m));
    }
  }
  const instance = ev.reportingInstance ?? '';
  if (instance === '') errs.push(required(['reportingInstance']));
  if (instance.length > INSTANCE_MAX) {
    errs.push(invalid(['reportingInstance'], '', atMost(INSTANCE_MAX)));
  }
  const action = ev.action ?? '';
  if (action === '') errs.push(required(['action']));
  if (action.length > ACTION_MAX) errs.push(invalid(['action'], '', atMost(ACTION_MAX)));
  const reason = ev.reason ?? '';
  if (reason === '') errs.push(required(['reason']));
  if (reason.length > REASON_MAX) errs.push(invalid(['reason'], '', atMost(REASON_MAX)));
  if ((ev.message ?? '').length > NOTE_MAX) errs.push(invalid(['message'], '', atMost(NOTE_MAX)));
  return errs;
}
