// Status written by clients carries RFC 3339 times; the store keeps virtual-clock
// nanoseconds (src/api/wire.ts renders them). This is the way back.
const TIME_KEYS = new Set([
  'startTime',
  'lastTransitionTime',
  'lastProbeTime',
  'lastUpdateTime',
  'lastHeartbeatTime',
  'startedAt',
  'finishedAt',
]);

/** A copy of `value` with RFC 3339 strings under time keys as virtual nanoseconds. */
export function fromWireTimes(value: unknown, epochMs: number, key = ''): unknown {
  if (typeof value === 'string' && TIME_KEYS.has(key)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? value : Math.max(0, (ms - epochMs) * 1e6);
  }
  if (Array.isArray(value)) return value.map((v) => fromWireTimes(v, epochMs));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromWireTimes(v, epochMs, k);
    return out;
  }
  return value;
}
