// Streaming pcap output: to a file (synchronous, buffered) or to a Node
// Writable. Synchronous file writes keep a simulation run deterministic and
// leave a complete file behind even if the process exits right after close().

import { closeSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import {
  PCAP_DEFAULT_SNAPLEN,
  PCAP_RECORD_HEADER_LEN,
  encodePcapGlobalHeader,
  writePcapRecordHeader,
} from './pcap.ts';
import type { PcapResolution, PcapWriteOptions } from './pcap.ts';

/** A pcap sink that accepts packets one at a time. */
export interface PcapSink {
  /** Append one packet captured at `tsNs` (ns since the epoch). The bytes are copied. */
  write(tsNs: bigint, packet: Uint8Array): void;
  /** Flush and release the output; later writes throw. */
  close(): void;
  /** Records written so far. */
  readonly count: number;
}

const FLUSH_AT = 64 * 1024;

/** Encodes records into a reusable buffer and hands finished chunks to `emit`. */
class RecordEncoder {
  count = 0;
  closed = false;
  private buf = new Uint8Array(FLUSH_AT);
  private view = new DataView(this.buf.buffer);
  private len = 0;
  private readonly resolution: PcapResolution;
  private readonly snaplen: number;

  constructor(
    opts: PcapWriteOptions,
    private readonly emit: (chunk: Uint8Array) => void,
  ) {
    // encodePcapGlobalHeader validates the options before anything is emitted.
    const header = encodePcapGlobalHeader(opts);
    this.resolution = opts.resolution ?? 'us';
    this.snaplen = opts.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    this.buf.set(header);
    this.len = header.length;
  }

  write(tsNs: bigint, packet: Uint8Array): void {
    if (this.closed) throw new Error('pcap: write after close');
    const incl = Math.min(packet.length, this.snaplen);
    const need = PCAP_RECORD_HEADER_LEN + incl;
    if (this.len + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) {
        this.buf = new Uint8Array(need);
        this.view = new DataView(this.buf.buffer);
      }
    }
    writePcapRecordHeader(this.view, this.len, tsNs, incl, packet.length, this.resolution);
    this.buf.set(packet.subarray(0, incl), this.len + PCAP_RECORD_HEADER_LEN);
    this.len += need;
    this.count++;
  }

  flush(): void {
    if (this.len === 0) return;
    // emit gets a fresh copy: a stream may hold the chunk after write() returns.
    this.emit(this.buf.slice(0, this.len));
    this.len = 0;
  }
}

/**
 * Open `path` (created or truncated) and write a pcap header to it. Records are
 * buffered (64 KiB) and written with writeSync; `close()` flushes and closes.
 * Default link type is LinkType.RAW.
 */
export function createPcapFileWriter(path: string, opts: PcapWriteOptions = {}): PcapSink {
  let fd = -1;
  // Options are validated (constructor) before the file is created.
  const enc = new RecordEncoder(opts, (chunk) => {
    let done = 0;
    while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
  });
  fd = openSync(path, 'w');
  try {
    enc.flush();
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return {
    write: (tsNs, packet) => enc.write(tsNs, packet),
    close: () => {
      if (enc.closed) return;
      enc.closed = true;
      try {
        enc.flush();
      } finally {
        closeSync(fd);
      }
    },
    get count() {
      return enc.count;
    },
  };
}

/**
 * Write pcap to a Node Writable (a socket, `process.stdout`, a file stream).
 * Records are batched into 64 KiB chunks; `close()` flushes and ends the stream.
 * Backpressure is left to the stream's buffering: captures are bounded by the run.
 */
export function createPcapStreamWriter(stream: Writable, opts: PcapWriteOptions = {}): PcapSink {
  const enc = new RecordEncoder(opts, (chunk) => {
    stream.write(chunk);
  });
  enc.flush();
  return {
    write: (tsNs, packet) => enc.write(tsNs, packet),
    close: () => {
      if (enc.closed) return;
      enc.closed = true;
      enc.flush();
      stream.end();
    },
    get count() {
      return enc.count;
    },
  };
}
