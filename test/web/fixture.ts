// The web view's test rig: a live simulated cluster (the seed's manifests applied) behind
// the API server with the web view's network, and headless Debian chromium driven by
// playwright-core with the flags a closed network needs. `browserMissing()` says why the
// browser tests cannot run here (they skip with that reason).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { loadManifests } from '../../src/api/load.ts';
import { ApiServer } from '../../src/apiserver/server.ts';
import { type ServingTls, makeServingTls } from '../../src/apiserver/tls.ts';
import { simJourneys } from '../../src/cli/web.ts';
import type { ProxyMode } from '../../src/control/node-setup.ts';
import { SimRuntime } from '../../src/scenario/live-runtime.ts';
import { Session, type SessionOptions } from '../../src/scenario/session.ts';
import { httpsFetch } from '../apiserver/fixture.ts';

export const CHROMIUM = process.env['SVCLAB_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
/** Screenshots land here (gitignored). */
export const ARTIFACTS = resolve(process.env['SVCLAB_ARTIFACTS'] ?? 'tmp/web-e2e');
export const SEED = resolve('scenarios/seed/manifests');

/** Why the browser tests cannot run, or undefined when they can. */
export function browserMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no chromium at ${CHROMIUM} (apt-get install chromium)`;
  return undefined;
}

export interface WebServed {
  session: Session;
  runtime: SimRuntime;
  server: ApiServer;
  url: string;
  token: string;
  tls: ServingTls;
  /** fetch with the bearer token. */
  api(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function serveWeb(
  opts: {
    mode?: ProxyMode;
    files?: string[];
    benchDir?: string;
    log?: (line: string) => void;
    cluster?: SessionOptions['cluster'];
  } = {},
): Promise<WebServed> {
  const session = new Session({
    mode: opts.mode ?? 'iptables',
    baseDir: process.cwd(),
    ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }),
  });
  const files = opts.files ?? [join(SEED, 'svc-deployment.yaml'), join(SEED, 'svc.yaml')];
  const cfg = session.cluster.config;
  const loaded = loadManifests(files, {
    recursive: false,
    serviceCidr: cfg.serviceCIDR,
    nodePortRange: cfg.nodePortRange,
    kubernetesVersion: cfg.kubernetesVersion,
  });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  session.cluster.apply(loaded.objects);
  session.wait(5e9); // the pods start and turn ready
  const runtime = new SimRuntime(session);
  const token = 'web-test-token-0123456789';
  const tls = makeServingTls();
  const server = new ApiServer({
    runtime,
    token,
    tls,
    port: 0,
    web: {
      driver: simJourneys(session),
      ...(opts.benchDir === undefined ? {} : { benchDir: opts.benchDir }),
    },
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });
  const port = await server.listen();
  runtime.start();
  const url = `https://127.0.0.1:${port}`;
  return {
    session,
    runtime,
    server,
    url,
    token,
    tls,
    api: (path, init = {}) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        ...init.headers,
      };
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      return httpsFetch(`${url}${path}`, init.method ?? 'GET', headers, body, tls.caPem);
    },
    close: async () => {
      runtime.stop();
      await server.close();
    },
  };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless chromium with a fresh profile; the server's certificate is self-signed. */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'svclab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    ignoreHTTPSErrors: true,
    viewport: { width: 1600, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Log in through a fresh one-time URL and land on the page. */
export async function openPage(ctx: BrowserContext, s: WebServed): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(s.server.web.loginUrl());
  return page;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
