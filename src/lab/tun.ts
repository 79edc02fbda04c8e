// TUN devices for the lab: a thin layer over the native addon (native/src/tun.cc).
// The addon reads packets in batches into one reused slab and calls back once per
// batch; here each packet becomes a Uint8Array view into that slab. Views are valid
// only during the callback: the next batch overwrites the slab.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './repo.ts';

export type TunSupport = { ok: true } | { ok: false; reason: string };

export interface TunOptions {
  /** IFF_MULTI_QUEUE: several fds (Tun.open with the same name) may serve one device. */
  multiQueue?: boolean;
  /** max packets per 'packets' callback (default 64) */
  batch?: number;
}

export interface TunStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
}

/** The addon's device object (native/src/tun.h). */
interface NativeDevice {
  readonly fd: number;
  readonly name: string;
  readonly closed: boolean;
  /** Where a batch lands: packet i is offsets[i], lengths[i] bytes. */
  readonly slab: ArrayBuffer;
  readonly lengths: Uint32Array;
  readonly offsets: Uint32Array;
  /** rxPackets, rxBytes, txPackets, txBytes, txDropped, rxErrors, lastErrno, rxBatches */
  readonly statsArray: Float64Array;
  readonly batch: number;
  /** cb(count) per batch; cb(-errno, error) once when reading fails and stops. */
  start(cb: (count: number, err?: Error) => void): void;
  stop(): void;
  /** Write the n packets laid back to back in txSlab (txLengths[i] bytes each). */
  writeTx(n: number): number;
  readonly txSlab: ArrayBuffer;
  readonly txLengths: Uint32Array;
  writeOne(packet: Uint8Array): boolean;
  close(): void;
}

interface Addon {
  TunDevice: new (
    name: string,
    multiQueue: boolean,
    batch: number,
    typicalPacket: number,
  ) => NativeDevice;
}

const ADDON_PATH = join('native', 'build', 'Release', 'svclab_tun.node');
/** Linux interface names: IFNAMSIZ (16) with the terminating NUL. */
export const MAX_TUN_NAME = 15;
const DEFAULT_BATCH = 64;
/**
 * The slab holds batch × this plus one largest datagram (64 KiB): reads pack densely (a
 * small slab stays in cache) and any packet fits, whatever MTU the lab sets later.
 */
const TYPICAL_PACKET = 2048;
const CAP_NET_ADMIN = 12;

let loaded: { addon: Addon } | { error: string } | undefined;

function loadAddon(): { addon: Addon } | { error: string } {
  if (loaded !== undefined) return loaded;
  const root = repoRoot();
  const file = join(root, ADDON_PATH);
  if (!existsSync(file)) {
    let why = 'not built';
    try {
      why = readFileSync(join(root, 'native', 'build', 'BUILD_FAILED'), 'utf8').trim();
    } catch {
      // No failure note: the install script never ran here.
    }
    return (loaded = { error: `TUN addon ${ADDON_PATH} missing (${why}); run npm rebuild` });
  }
  try {
    return (loaded = { addon: createRequire(import.meta.url)(file) as Addon });
  } catch (e) {
    return (loaded = { error: `TUN addon failed to load: ${(e as Error).message}` });
  }
}

/** Bit `cap` of this process's effective capability set (/proc/self/status CapEff). */
function hasCapability(cap: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m === null) return false;
    return ((BigInt('0x' + m[1]!) >> BigInt(cap)) & 1n) === 1n;
  } catch {
    return process.getuid?.() === 0;
  }
}

/** Can this process open TUN devices? Checks: addon built (else the build error / "run npm rebuild"), Linux, /dev/net/tun exists, root (CAP_NET_ADMIN). */
export function tunSupport(): TunSupport {
  if (process.platform !== 'linux')
    return { ok: false, reason: `TUN devices need Linux, this is ${process.platform}` };
  const a = loadAddon();
  if ('error' in a) return { ok: false, reason: a.error };
  if (!existsSync('/dev/net/tun'))
    return { ok: false, reason: '/dev/net/tun does not exist (modprobe tun, or no TUN here)' };
  if (!hasCapability(CAP_NET_ADMIN))
    return { ok: false, reason: 'opening TUN devices needs root (CAP_NET_ADMIN)' };
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return { ok: false, reason: '/dev/net/tun is not readable and writable by this process' };
  }
  return { ok: true };
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class Tun {
  readonly name: string;
  readonly fd: number;
  private readonly dev: NativeDevice;
  private readonly bytes: Uint8Array;
  private readonly tx: Uint8Array;
  private readonly txLens: Uint32Array;
  /** The array handed to callbacks, reused; views are cached per index, offset and length. */
  private readonly batchArr: Uint8Array[] = [];
  private readonly views: Uint8Array[] = [];
  private cb: ((packets: Uint8Array[]) => void) | undefined;
  private errorCb: ((err: Error) => void) | undefined;
  private readErr: Error | undefined;

  private constructor(dev: NativeDevice) {
    this.dev = dev;
    this.name = dev.name;
    this.fd = dev.fd;
    this.bytes = new Uint8Array(dev.slab);
    this.tx = new Uint8Array(dev.txSlab);
    this.txLens = dev.txLengths;
  }

  /**
   * Open (or create) the TUN device `name` (IFF_TUN | IFF_NO_PI, non-blocking, close-on-exec).
   * Throws an Error with `errno` (negative, as Node reports it), `code` ('EPERM') and
   * `syscall`; a name over 15 characters throws code 'ENAMETOOLONG' before any syscall.
   */
  static open(name: string, opts: TunOptions = {}): Tun {
    if (name.length > MAX_TUN_NAME)
      throw Object.assign(
        new Error(
          `TUN name "${name}" has ${name.length} characters; Linux interface names have at most ${MAX_TUN_NAME}`,
        ),
        { code: 'ENAMETOOLONG' },
      );
    const a = loadAddon();
    if ('error' in a) throw codedError('ERR_TUN_UNAVAILABLE', a.error);
    const batch = opts.batch ?? DEFAULT_BATCH;
    if (!Number.isInteger(batch) || batch < 1 || batch > 4096)
      throw new RangeError(`TunOptions.batch must be an integer 1..4096, got ${batch}`);
    return new Tun(new a.addon.TunDevice(name, opts.multiQueue === true, batch, TYPICAL_PACKET));
  }

  /**
   * Called with a batch of packets read from the device; the arrays are views into a
   * reused buffer, valid only during the call. Starts reading; a second call replaces
   * the callback.
   */
  onPackets(cb: (packets: Uint8Array[]) => void): void {
    this.cb = cb;
    this.dev.start((count, err) => this.deliver(count, err));
  }

  /**
   * Called once if reading fails (the device went away: `read svl-x: File descriptor in
   * bad state`, code EBADFD); reading has stopped. Without a callback the error is only
   * kept in `readError`.
   */
  onError(cb: (err: Error) => void): void {
    this.errorCb = cb;
  }

  /** Stop reading (the device stays open); onPackets starts again. */
  pause(): void {
    if (!this.dev.closed) this.dev.stop();
  }

  private deliver(count: number, err?: Error): void {
    if (count < 0) {
      // The device went away (its namespace was deleted, `ip link del`): reading has
      // stopped. Not an exception: a lab tearing down may delete namespaces first.
      this.readErr = err ?? new Error(`read ${this.name}: errno ${-count}`);
      this.errorCb?.(this.readErr);
      return;
    }
    const lens = this.dev.lengths;
    const offs = this.dev.offsets;
    const views = this.views;
    const out = this.batchArr;
    out.length = count;
    for (let i = 0; i < count; i++) {
      const len = lens[i]!;
      const off = offs[i]!;
      let v = views[i];
      // Same place, same length as last time: the old view is still exactly right.
      if (v === undefined || v.length !== len || v.byteOffset !== off) {
        v = this.bytes.subarray(off, off + len);
        views[i] = v;
      }
      out[i] = v;
    }
    this.cb?.(out);
  }

  /** Write each packet with one write(); returns how many went (the rest count in txDropped). */
  send(packets: readonly Uint8Array[]): number {
    const dev = this.dev;
    if (dev.closed) throw codedError('ERR_TUN_CLOSED', `TUN ${this.name} is closed`);
    // Copy the batch into the transmit slab and hand it over in one call: a ~100-byte
    // copy costs far less than the N-API calls it takes to reach each packet's bytes.
    const tx = this.tx;
    const lens = this.txLens;
    let written = 0;
    let off = 0;
    let n = 0;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      const len = p.length;
      if (len > tx.length) {
        // Larger than any IP datagram: the kernel refuses it, and counts it as we do.
        if (dev.writeOne(p)) written++;
        continue;
      }
      if (off + len > tx.length || n === lens.length) {
        written += dev.writeTx(n);
        off = 0;
        n = 0;
      }
      tx.set(p, off);
      lens[n++] = len;
      off += len;
    }
    if (n > 0) written += dev.writeTx(n);
    return written;
  }

  sendOne(packet: Uint8Array): boolean {
    const dev = this.dev;
    if (dev.closed) throw codedError('ERR_TUN_CLOSED', `TUN ${this.name} is closed`);
    // Through the transmit slab too: copy + one call beats writeOne's N-API reads of the
    // array (~150-250 ns less per packet).
    const len = packet.length;
    if (len > this.tx.length) return dev.writeOne(packet);
    this.tx.set(packet, 0);
    this.txLens[0] = len;
    return dev.writeTx(1) === 1;
  }

  get stats(): TunStats {
    const s = this.dev.statsArray;
    return {
      rxPackets: s[0]!,
      rxBytes: s[1]!,
      txPackets: s[2]!,
      txBytes: s[3]!,
      txDropped: s[4]!,
    };
  }

  /** Callbacks made so far: rxPackets / rxBatches is the mean batch size. */
  get rxBatches(): number {
    return this.dev.statsArray[7]!;
  }

  /** Why reading stopped, if it failed (see onError). */
  get readError(): Error | undefined {
    return this.readErr;
  }

  get closed(): boolean {
    return this.dev.closed;
  }

  /** Stop reading and close the fd; idempotent. The device itself goes when no fd holds it. */
  close(): void {
    this.dev.close();
    this.cb = undefined;
  }
}
