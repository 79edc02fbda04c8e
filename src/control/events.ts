// Event recording: client-go's record.EventRecorder with its EventCorrelator, and the
// events.k8s.io/v1 recorder the scheduler uses, writing core/v1 Events into the store so
// `kubectl get events` and `kubectl describe` show what the controllers did.
//
// The correlator (client-go tools/record/events_cache.go), per source and involved object:
//   - aggregation: a 10th event within 10 minutes that differs from similar ones (same
//     source, object, type, reason) only by message becomes one event "(combined from
//     similar events): <message>", counted from then on;
//   - de-duplication: an identical event (source, object, fieldPath, type, reason, message)
//     bumps `count` and `lastTimestamp` of the first one (an update, not a new object);
//   - spam filter: 25 events per source and object, then one per 5 minutes.
// The scheduler's events.k8s.io/v1 path has no correlator: an isomorphic event within
// 6 minutes turns the first into a series ({count, lastObservedTime}).
//
// The API server's side: events expire an hour after their last write (--event-ttl) and,
// svclab's own bound, at most `maxEvents` are kept; the least recently written go first.
//
// Cheap at scale: a component's broadcaster queue takes 1,000 events (client-go's
// maxQueuedEvents) and drops the rest, here per instant of virtual time; recording builds
// a small entry and no object; entries are written to the store when the recorder drains
// (it is the last controller of every settle round), so an event evicted before the
// round ends is never written at all. 100,000 pods started in one instant on 50 nodes
// record ~51,000 events and cost `maxEvents` store writes, not 400,000.
//
// Determinism: event uids come from the recorder's own Rng (seeded from the cluster seed),
// never from the cluster's: recording events shifts no pod name, address or port.
import type { Event, KubeObject, ObjectReference } from '../api/types.ts';
import { DEFAULT_EPOCH_MS } from '../api/wire.ts';
import type { VirtualClock } from './clock.ts';
import { SECOND } from './clock.ts';
import { ApiError } from './errors.ts';
import { Rng } from './rng.ts';
import type { Store } from './store.ts';
import type { Controller } from './workqueue.ts';

export type EventType = 'Normal' | 'Warning';

/**
 * One recording component, as client-go gives each its own event broadcaster: a kubelet
 * (component `kubelet`, host its node), the scheduler (reporting controller and
 * instance), each controller of the controller manager. The broadcaster queues at most
 * 1,000 events (maxQueuedEvents) and drops what does not fit (DropIfChannelFull); here
 * its queue holds what one component records in one instant of virtual time.
 */
export class EventSource {
  /** The virtual instant `queued` counts for. */
  instant = -1;
  queued = 0;

  constructor(
    readonly component: string,
    readonly host = '',
  ) {}
}

export interface EventRecorderOptions {
  /** The cluster seed; the recorder's uid generator is seeded from it plus a constant. */
  seed: number;
  /** Record at all (default true). */
  enabled?: boolean;
  /** Events kept at most (default 5,000); the least recently written are deleted first. */
  maxEvents?: number;
  /** Time after its last write that an event is deleted (default 1 h, --event-ttl). */
  ttlNs?: number;
  /** Wall-clock ms of virtual time zero, for the nanosecond timestamp in event names. */
  epochMs?: number;
}

const MINUTE = 60 * SECOND;
export const DEFAULT_MAX_EVENTS = 5000;
export const DEFAULT_EVENT_TTL_NS = 60 * MINUTE;

/** event.go: maxQueuedEvents, a broadcaster's queue. */
const MAX_QUEUED_EVENTS = 1000;
/** events_cache.go: maxLruCacheEntries (here: involved objects remembered). */
const CACHE_OBJECTS = 4096;
/** defaultAggregateMaxEvents, defaultAggregateIntervalInSeconds. */
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_NS = 10 * MINUTE;
/** defaultSpamBurst, defaultSpamQPS (one event per 5 minutes). */
const SPAM_BURST = 25;
const SPAM_PER_NS = 1 / (300 * SECOND);
/** events.k8s.io/v1 broadcaster's finishTime: a series ends after 6 quiet minutes. */
const SERIES_FINISH_NS = 6 * MINUTE;
/** Observations remembered per source and object (the LRU bound, per object). */
const OBSERVATIONS_PER_SOURCE = 64;
/** Added to the cluster seed for the recorder's uid generator ('EVNT'). */
const UID_SEED_SALT = 0x45564e54;

export const AGGREGATE_PREFIX = '(combined from similar events): ';

/**
 * One event: the correlator's observation of it (count, first time, name) and, while
 * `live`, the event the store holds or will hold. An observation outlives its event (it
 * expired, or was evicted): the same event again is then created anew under its old
 * name with the count going on, as client-go does when its patch finds nothing.
 * A class so every entry shares one shape.
 */
class EventEntry {
  /** Nanosecond stamp naming the event: unique, increasing (virtual now, or last + 1). */
  readonly id: number;
  namespace: string;
  name = '';
  // The involved object, as its fields were when recorded (no reference to the object
  // itself, which would keep a superseded pod version alive).
  kind: string;
  objNamespace: string | undefined;
  objName: string;
  uid: string | undefined;
  apiVersion: string;
  rv: string | undefined;
  readonly fieldPath: string | undefined;
  /** Legacy: source component and host; events.k8s.io/v1: reporting controller, instance. */
  readonly component: string;
  readonly host: string;
  /** Set for events.k8s.io/v1 events (the scheduler's `Binding`, `Scheduling`). */
  readonly action: string | undefined;
  readonly type: string;
  readonly reason: string;
  /** The message matched on ('' for an aggregate); `text` is the one written. */
  readonly message: string;
  text: string;
  readonly aggregate: boolean;
  count = 1;
  readonly first: number;
  /** Last observation (aggregation interval, series end). */
  seen: number;
  /** Last write: the TTL runs from it. */
  last: number;
  /** events.k8s.io/v1 series count (1: a singleton). */
  seriesCount = 1;
  stored = false;
  dirty = false;
  /** In the live list (written or to be written, not evicted). */
  live = false;
  prev: EventEntry | undefined = undefined;
  next: EventEntry | undefined = undefined;
  /** When it was last appended to the live list (EntryList.seq). */
  seq = 0;

  constructor(
    id: number,
    obj: KubeObject | undefined,
    namespace: string,
    fieldPath: string | undefined,
    component: string,
    host: string,
    action: string | undefined,
    type: string,
    reason: string,
    message: string,
    aggregate: boolean,
    now: number,
  ) {
    this.id = id;
    this.namespace = namespace;
    const m = obj?.metadata;
    this.kind = obj?.kind ?? '';
    this.objNamespace = m?.namespace;
    this.objName = m?.name ?? '';
    this.uid = m?.uid;
    this.apiVersion = obj?.apiVersion ?? '';
    this.rv = m?.resourceVersion;
    this.fieldPath = fieldPath;
    this.component = component;
    this.host = host;
    this.action = action;
    this.type = type;
    this.reason = reason;
    this.message = message;
    this.text = message;
    this.aggregate = aggregate;
    this.first = now;
    this.seen = now;
    this.last = now;
  }
}

/**
 * The live entries, least recently written first: an intrusive doubly linked list (a
 * Set whose head is deleted over and over leaves holes every iterator has to skip).
 */
class EntryList {
  head: EventEntry | undefined;
  tail: EventEntry | undefined;
  size = 0;
  /** Appends so far. */
  seq = 0;

  push(e: EventEntry): void {
    e.seq = ++this.seq;
    e.prev = this.tail;
    e.next = undefined;
    if (this.tail === undefined) this.head = e;
    else this.tail.next = e;
    this.tail = e;
    this.size++;
  }

  unlink(e: EventEntry): void {
    if (e.prev === undefined) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === undefined) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = e.next = undefined;
    this.size--;
  }
}

/**
 * The aggregator's record of similar events (same type and reason), made once a second
 * message turns up: until then the one observation of that type and reason stands for it.
 */
interface Aggregate {
  readonly type: string;
  readonly reason: string;
  /** Distinct messages seen (the local keys), oldest first. */
  messages: string[];
  last: number;
}

/** What one source remembers about one object. */
interface SourceState {
  readonly component: string;
  readonly host: string;
  tokens: number;
  refilled: number;
  aggregates: Aggregate[] | undefined;
  observations: EventEntry[];
}

interface ObjectState {
  /** The first source to record about the object, then any others. */
  source: SourceState | undefined;
  sources: SourceState[] | undefined;
  /** The events.k8s.io/v1 broadcaster's cache of isomorphic events. */
  series: EventEntry[] | undefined;
}

export class EventRecorder implements Controller {
  readonly name = 'events';
  readonly enabled: boolean;
  readonly maxEvents: number;
  readonly ttlNs: number;
  private readonly uids: Rng;
  private readonly epochNs: bigint;
  /** Every live entry, least recently written first. */
  private readonly entries = new EntryList();
  /** Stored entries by `namespace/name`. */
  private readonly byKey = new Map<string, EventEntry>();
  /**
   * Entries with changes to write are the ones appended since the last drain (a write
   * appends): no list of them, which would keep every evicted one alive until the drain.
   */
  private drainedSeq = 0;
  private anyDirty = false;
  /** Stored entries evicted: deleted from the store at the next drain. */
  private doomed: EventEntry[] = [];
  /** Correlator state by involved object uid, bounded: a ring of keys evicts the oldest. */
  private readonly objects = new Map<string, ObjectState>();
  private readonly objectRing: (string | undefined)[] = new Array<string | undefined>(
    CACHE_OBJECTS,
  );
  private ringAt = 0;
  private lastId = -1;
  private foreignIds = 0;
  private writing = false;
  /** Events written, updated and deleted by the recorder so far. */
  readonly stats = {
    /** Accepted into a broadcaster's queue. */
    recorded: 0,
    /** Dropped: the broadcaster's queue was full. */
    dropped: 0,
    /** Withheld by the spam filter. */
    skipped: 0,
    created: 0,
    updated: 0,
    deleted: 0,
  };

  constructor(
    private readonly store: Store,
    private readonly clock: VirtualClock,
    opts: EventRecorderOptions,
  ) {
    this.enabled = opts.enabled ?? true;
    this.maxEvents = Math.max(1, opts.maxEvents ?? DEFAULT_MAX_EVENTS);
    this.ttlNs = opts.ttlNs ?? DEFAULT_EVENT_TTL_NS;
    const salted = opts.seed + UID_SEED_SALT;
    this.uids = new Rng(Number.isSafeInteger(salted) ? salted : opts.seed - UID_SEED_SALT);
    this.epochNs = BigInt(opts.epochMs ?? DEFAULT_EPOCH_MS) * 1_000_000n;
    store.setUidSource('Event', this.uids);
    if (this.enabled) store.watch('Event', (ev) => this.onStoreEvent(ev.type, ev.key, ev.object));
  }

  /**
   * record.EventRecorder.Event: `source` says who records (`{component: 'kubelet', host:
   * node}`), `obj` what it is about, `fieldPath` which part (`spec.containers{myapp}`).
   */
  event(
    source: EventSource,
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    fieldPath?: string,
  ): void {
    const now = this.clock.now();
    if (!this.admit(source, now)) return;
    const host = source.host;
    const st = this.sourceState(obj, source.component, host);
    const obs = st.observations;
    // EventAggregate: similar events (same type and reason) varying only by message.
    let agg: Aggregate | undefined;
    for (const a of st.aggregates ?? []) if (a.type === type && a.reason === reason) agg = a;
    let aggregate = false;
    if (agg !== undefined) {
      if (now - agg.last > AGGREGATE_INTERVAL_NS) agg.messages = [];
      if (!agg.messages.includes(message)) agg.messages.push(message);
      agg.last = now;
      if (agg.messages.length >= AGGREGATE_MAX_EVENTS) {
        // The set stays below the maximum (Go pops an arbitrary key; the oldest here).
        agg.messages.shift();
        aggregate = true;
      }
    } else {
      // No record yet: the latest similar observation holds the only message seen.
      let prev: EventEntry | undefined;
      for (const o of obs) {
        if (o.aggregate || o.type !== type || o.reason !== reason) continue;
        if (prev === undefined || o.seen > prev.seen) prev = o;
      }
      if (
        prev !== undefined &&
        prev.message !== message &&
        now - prev.seen <= AGGREGATE_INTERVAL_NS
      ) {
        agg = { type, reason, messages: [prev.message, message], last: now };
        (st.aggregates ??= []).push(agg);
      }
    }
    // eventObserve: the same event again (or the aggregate) is counted, not repeated.
    let e: EventEntry | undefined;
    for (const o of obs) {
      if (o.aggregate !== aggregate || o.type !== type || o.reason !== reason) continue;
      if (aggregate || (o.fieldPath === fieldPath && o.message === message)) {
        e = o;
        break;
      }
    }
    if (e === undefined) {
      const ns = obj.metadata.namespace || 'default';
      e = new EventEntry(
        this.nextId(now),
        obj,
        ns,
        fieldPath,
        source.component,
        host,
        undefined,
        type,
        reason,
        aggregate ? '' : message,
        aggregate,
        now,
      );
      if (obs.length >= OBSERVATIONS_PER_SOURCE) obs.shift();
      obs.push(e);
    } else {
      e.count++;
      e.seen = now;
    }
    // EventSourceObjectSpamFilter: a token bucket per source and object.
    st.tokens = Math.min(SPAM_BURST, st.tokens + (now - st.refilled) * SPAM_PER_NS);
    st.refilled = now;
    if (st.tokens < 1) {
      this.stats.skipped++;
      return;
    }
    st.tokens -= 1;
    e.text = aggregate ? AGGREGATE_PREFIX + message : message;
    this.written(e, obj, now);
  }

  /**
   * events.k8s.io/v1 EventRecorder.Eventf (the scheduler's): the source's component and
   * host are the reporting controller and instance (`default-scheduler`,
   * `default-scheduler-k8s-master01`), `action` is what was done (`Binding`). An
   * isomorphic event within 6 minutes makes a series.
   */
  eventV1(
    source: EventSource,
    obj: KubeObject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): void {
    const now = this.clock.now();
    if (!this.admit(source, now)) return;
    const controller = source.component;
    const instance = source.host;
    const os = this.objectState(obj);
    const rv = obj.metadata.resourceVersion;
    const series = (os.series ??= []);
    let e: EventEntry | undefined;
    for (let i = 0; i < series.length; i++) {
      const r = series[i]!;
      if (now - r.seen > SERIES_FINISH_NS) {
        series.splice(i--, 1); // finishSeries: the broadcaster forgets it
        continue;
      }
      if (
        r.component === controller &&
        r.host === instance &&
        r.type === type &&
        r.action === action &&
        r.reason === reason &&
        r.rv === rv
      ) {
        e = r;
      }
    }
    if (e === undefined) {
      e = new EventEntry(
        this.nextId(now),
        obj,
        obj.metadata.namespace || 'default',
        undefined,
        controller,
        instance,
        action,
        type,
        reason,
        note,
        false,
        now,
      );
      series.push(e);
    } else {
      e.seriesCount++;
      e.seen = now;
    }
    this.written(e, obj, now);
  }

  /**
   * Would `source`'s queue take an event now? Callers with messages to format ask first,
   * so a burst the queue drops costs no strings (a refusal counts as one dropped event).
   */
  accepting(source: EventSource): boolean {
    if (!this.enabled) return false;
    const now = this.clock.now();
    if (source.instant !== now || source.queued < MAX_QUEUED_EVENTS) return true;
    this.stats.dropped++;
    return false;
  }

  /** Into the source's broadcaster queue, unless it is full (or recording is off). */
  private admit(source: EventSource, now: number): boolean {
    if (!this.enabled) return false;
    if (source.instant !== now) {
      source.instant = now;
      source.queued = 0;
    }
    if (source.queued >= MAX_QUEUED_EVENTS) {
      this.stats.dropped++;
      return false;
    }
    source.queued++;
    this.stats.recorded++;
    return true;
  }

  /** An entry to (re)write: the most recently written now; back in the live list if it was not. */
  private written(e: EventEntry, obj: KubeObject, now: number): void {
    e.last = now;
    e.dirty = true;
    this.anyDirty = true;
    if (e.live) {
      this.entries.unlink(e);
      this.entries.push(e);
      return;
    }
    // New, or its event is gone: client-go's patch fails and it creates it again (about
    // the object as it is now).
    e.rv = obj.metadata.resourceVersion;
    e.live = true;
    this.entries.push(e);
    while (this.entries.size > this.maxEvents) this.evict(this.entries.head!);
  }

  /** Write what was recorded since the last drain; expire old events. True if it wrote. */
  drain(): boolean {
    if (!this.enabled) return false;
    this.expire(this.clock.now());
    if (!this.anyDirty && this.doomed.length === 0) return false;
    this.writing = true;
    try {
      const doomed = this.doomed;
      this.doomed = [];
      for (const e of doomed) this.remove(e);
      // The entries appended since the last drain, in the order of their last write.
      let first: EventEntry | undefined;
      for (let e = this.entries.tail; e !== undefined && e.seq > this.drainedSeq; e = e.prev) {
        first = e;
      }
      this.drainedSeq = this.entries.seq;
      this.anyDirty = false;
      for (let e = first, next: EventEntry | undefined; e !== undefined; e = next) {
        next = e.next;
        if (!e.dirty) continue;
        e.dirty = false;
        this.write(e);
      }
    } finally {
      this.writing = false;
    }
    return true;
  }

  /** Events the recorder holds (written or about to be), for tests and figures. */
  get size(): number {
    return this.entries.size;
  }

  // ---- entries -----------------------------------------------------------------------

  private nextId(now: number): number {
    this.lastId = Math.max(now, this.lastId + 1);
    return this.lastId;
  }

  private expire(now: number): void {
    for (;;) {
      const head = this.entries.head;
      if (head === undefined || now - head.last < this.ttlNs) return;
      this.evict(head);
    }
  }

  /** Forget an entry; a stored one is deleted from the store at the next drain. */
  private evict(e: EventEntry): void {
    this.entries.unlink(e);
    e.live = false;
    if (e.stored) this.doomed.push(e);
  }

  private remove(e: EventEntry): void {
    if (!e.stored) return;
    e.stored = false;
    this.byKey.delete(`${e.namespace}/${e.name}`);
    try {
      this.store.delete('Event', e.namespace, e.name);
      this.stats.deleted++;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
    }
  }

  private write(e: EventEntry): void {
    if (e.name === '') e.name = `${e.objName}.${(this.epochNs + BigInt(e.id)).toString(16)}`;
    const obj = this.materialize(e);
    try {
      if (e.stored) {
        try {
          this.store.update(obj);
          this.stats.updated++;
          return;
        } catch (err) {
          // Deleted meanwhile: client-go's patch fails with 404 and it creates the event.
          if (!(err instanceof ApiError) || err.reason !== 'NotFound') throw err;
          e.stored = false;
        }
      }
      this.store.create(obj);
      e.stored = true;
      this.byKey.set(`${e.namespace}/${e.name}`, e);
      this.stats.created++;
    } catch (err) {
      // AlreadyExists, a namespace that is gone: the server rejects it, client-go gives up.
      if (!(err instanceof ApiError)) throw err;
      this.entries.unlink(e);
      e.live = false;
    }
  }

  /** The core/v1 Event an entry stands for. */
  private materialize(e: EventEntry): Event {
    const involved: ObjectReference = { kind: e.kind };
    if (e.objNamespace !== undefined) involved.namespace = e.objNamespace;
    involved.name = e.objName;
    if (e.uid !== undefined) involved.uid = e.uid;
    involved.apiVersion = e.apiVersion;
    if (e.rv !== undefined) involved.resourceVersion = e.rv;
    if (e.fieldPath !== undefined) involved.fieldPath = e.fieldPath;
    const metadata = { name: e.name, namespace: e.namespace };
    if (e.action !== undefined) {
      // Written through events.k8s.io/v1, read back through core/v1.
      const ev: Event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata,
        involvedObject: involved,
        reason: e.reason,
        message: e.text,
        source: {},
        firstTimestamp: null,
        lastTimestamp: null,
        type: e.type,
        eventTime: e.first,
        action: e.action,
        reportingComponent: e.component,
        reportingInstance: e.host,
      };
      if (e.seriesCount > 1) ev.series = { count: e.seriesCount, lastObservedTime: e.seen };
      return ev;
    }
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata,
      involvedObject: involved,
      reason: e.reason,
      message: e.text,
      source: e.host === '' ? { component: e.component } : { component: e.component, host: e.host },
      firstTimestamp: e.first,
      lastTimestamp: e.last,
      count: e.count,
      type: e.type,
      eventTime: null,
      reportingComponent: e.component,
      reportingInstance: e.host,
    };
  }

  // ---- correlator state ------------------------------------------------------------------

  private objectState(obj: KubeObject): ObjectState {
    const m = obj.metadata;
    const key = m.uid ?? `${obj.kind}/${m.namespace ?? ''}/${m.name}`;
    let os = this.objects.get(key);
    if (os === undefined) {
      const old = this.objectRing[this.ringAt];
      if (old !== undefined) this.objects.delete(old);
      this.objectRing[this.ringAt] = key;
      this.ringAt = (this.ringAt + 1) % CACHE_OBJECTS;
      os = { source: undefined, sources: undefined, series: undefined };
      this.objects.set(key, os);
    }
    return os;
  }

  private sourceState(obj: KubeObject, component: string, host: string): SourceState {
    const os = this.objectState(obj);
    const first = os.source;
    if (first !== undefined && first.component === component && first.host === host) return first;
    for (const x of os.sources ?? []) if (x.component === component && x.host === host) return x;
    const s: SourceState = {
      component,
      host,
      tokens: SPAM_BURST,
      refilled: this.clock.now(),
      aggregates: undefined,
      observations: [],
    };
    if (first === undefined) os.source = s;
    else (os.sources ??= []).push(s);
    return s;
  }

  // ---- events written by others (kubectl, clients of the API server) ------------------------

  private onStoreEvent(type: string, key: string, obj: Event): void {
    if (this.writing) return;
    const e = this.byKey.get(key);
    if (type === 'DELETED') {
      if (e === undefined) return;
      this.byKey.delete(key);
      e.stored = false;
      if (e.live) {
        this.entries.unlink(e);
        e.live = false;
      }
      return;
    }
    const now = this.clock.now();
    if (e !== undefined) {
      if (e.live) {
        e.last = now;
        this.entries.unlink(e);
        this.entries.push(e);
      }
      return;
    }
    // Someone else's event: it counts against the cap and expires like ours.
    const foreign = new EventEntry(
      --this.foreignIds,
      undefined,
      obj.metadata.namespace ?? 'default',
      undefined,
      '',
      '',
      undefined,
      obj.type ?? '',
      obj.reason ?? '',
      '',
      false,
      now,
    );
    foreign.name = obj.metadata.name;
    foreign.stored = true;
    foreign.live = true;
    this.entries.push(foreign);
    this.byKey.set(key, foreign);
    while (this.entries.size > this.maxEvents) this.evict(this.entries.head!);
  }
}
