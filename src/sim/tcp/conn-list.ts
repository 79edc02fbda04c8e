// A host's TCP connections in creation order, linked through the connections themselves
// (TcpConnection.listPrev/listNext/listed): adding and removing touch two neighbours and
// hash nothing, where a Set hashes each connection object on add, has and delete.
import type { TcpConnection } from './connection.ts';

export class ConnList {
  private first: TcpConnection | undefined;
  private last: TcpConnection | undefined;

  add(c: TcpConnection): void {
    c.listed = true;
    c.listPrev = this.last;
    c.listNext = undefined;
    if (this.last === undefined) this.first = c;
    else this.last.listNext = c;
    this.last = c;
  }

  /** Remove `c`; false if it was not in the list. */
  remove(c: TcpConnection): boolean {
    if (!c.listed) return false;
    c.listed = false;
    const prev = c.listPrev;
    const next = c.listNext;
    if (prev === undefined) this.first = next;
    else prev.listNext = next;
    if (next === undefined) this.last = prev;
    else next.listPrev = prev;
    c.listPrev = undefined;
    c.listNext = undefined;
    return true;
  }

  /** The connections, oldest first (a copy: callers may close them while iterating). */
  toArray(): TcpConnection[] {
    const out: TcpConnection[] = [];
    for (let c = this.first; c !== undefined; c = c.listNext) out.push(c);
    return out;
  }
}
