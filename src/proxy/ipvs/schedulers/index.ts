// The scheduler registry: `ipvsadm -s NAME` / kube-proxy --ipvs-scheduler NAME.
import { DestinationHashingScheduler } from './dh.ts';
import { LocalityLeastConnectionScheduler } from './lblc.ts';
import { LocalityLeastConnectionReplicationScheduler } from './lblcr.ts';
import { LeastConnectionScheduler } from './lc.ts';
import { MaglevHashingScheduler } from './mh.ts';
import { NeverQueueScheduler } from './nq.ts';
import { RoundRobinScheduler } from './rr.ts';
import { ShortestExpectedDelayScheduler } from './sed.ts';
import { SourceHashingScheduler } from './sh.ts';
import { WeightedLeastConnectionScheduler } from './wlc.ts';
import { WeightedRoundRobinScheduler } from './wrr.ts';
import type { IpvsScheduler } from './scheduler.ts';

const FACTORIES: Readonly<Record<string, () => IpvsScheduler>> = {
  rr: () => new RoundRobinScheduler(),
  wrr: () => new WeightedRoundRobinScheduler(),
  lc: () => new LeastConnectionScheduler(),
  wlc: () => new WeightedLeastConnectionScheduler(),
  lblc: () => new LocalityLeastConnectionScheduler(),
  lblcr: () => new LocalityLeastConnectionReplicationScheduler(),
  dh: () => new DestinationHashingScheduler(),
  sh: () => new SourceHashingScheduler(),
  sed: () => new ShortestExpectedDelayScheduler(),
  nq: () => new NeverQueueScheduler(),
  mh: () => new MaglevHashingScheduler(),
};

/** Every scheduler name svclab knows, in ipvsadm's SCHEDULERS order. */
export const SCHEDULER_NAMES: readonly string[] = Object.keys(FACTORIES);

export function isSchedulerName(name: string): boolean {
  return Object.hasOwn(FACTORIES, name);
}

/** A fresh scheduler instance for one service; throws on an unknown name ("Scheduler not found"). */
export function createScheduler(name: string): IpvsScheduler {
  const f = FACTORIES[name];
  if (f === undefined) throw new Error(`Scheduler not found: ${JSON.stringify(name)}`);
  return f();
}

export type { IpvsScheduler, SchedPacket, SchedService } from './scheduler.ts';
