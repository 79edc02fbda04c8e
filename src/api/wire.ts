// Objects as the API server returns them (kubectl -o yaml/json, the API served to
// kubectl): times as RFC 3339 strings, Secret data base64, keys sorted as kubectl's
// unstructured output sorts them. svclab keeps times as virtual-clock nanoseconds;
// `epochMs` says which wall-clock instant virtual time zero stands for.
import type { KubeObject } from './types.ts';

/** The seed walkthrough's date: virtual time zero in printed timestamps by default. */
export const DEFAULT_EPOCH_MS = Date.UTC(2022, 6, 26, 11, 18, 20);

const TIME_FIELDS = new Set([
  'creationTimestamp',
  'deletionTimestamp',
  'startTime',
  'lastTransitionTime',
  // core/v1 Event
  'firstTimestamp',
  'lastTimestamp',
]);

/** metav1.MicroTime fields (an Event's eventTime, its series' lastObservedTime). */
const MICRO_TIME_FIELDS = new Set(['eventTime', 'lastObservedTime']);

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function formatTime(ns: number, epochMs = DEFAULT_EPOCH_MS): string {
  return new Date(epochMs + Math.floor(ns / 1e6)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime marshals (`2022-07-26T11:18:20.000000Z`). */
export function formatMicroTime(ns: number, epochMs = DEFAULT_EPOCH_MS): string {
  const us = epochMs * 1000 + Math.floor(ns / 1000);
  const s = Math.floor(us / 1e6);
  const frac = String(us - s * 1e6).padStart(6, '0');
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

function convert(value: unknown, key: string, epochMs: number): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'number' && TIME_FIELDS.has(key)) return formatTime(value, epochMs);
  if (typeof value === 'number' && MICRO_TIME_FIELDS.has(key)) {
    return formatMicroTime(value, epochMs);
  }
  if (Array.isArray(value)) return value.map((v) => convert(v, '', epochMs));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = convert(v, k, epochMs);
    }
    return out;
  }
  return value;
}

/** A plain JSON object in the API server's shape. */
export function toApiObject(obj: KubeObject, epochMs = DEFAULT_EPOCH_MS): Record<string, unknown> {
  return convert(obj, '', epochMs) as Record<string, unknown>;
}

/** kubectl's `kind: List` wrapper for several objects. */
export function toApiList(
  objs: readonly KubeObject[],
  epochMs = DEFAULT_EPOCH_MS,
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    items: objs.map((o) => toApiObject(o, epochMs)),
    kind: 'List',
    metadata: { resourceVersion: '' },
  };
}
