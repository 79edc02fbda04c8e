// The lab's ingress-nginx controllers ask the daemon, which holds the live cluster, how
// to answer each request (src/ingress: servers, locations, redirects, auth, rewrite) and
// which endpoint to proxy to, and for each TLS handshake which certificate a host has:
// the Secret its Ingress names, else ingress-nginx's self-signed "Kubernetes Ingress
// Controller Fake Certificate" (made once with openssl, if it is there).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../control/cluster.ts';
import { type IngressConfig, buildIngressConfig } from '../ingress/config.ts';
import { routeRequest } from '../ingress/route.ts';
import { type RoundRobin, pickEndpoint } from '../ingress/upstream.ts';
import { nginxPage } from '../ingress/pages.ts';
import type { IngressRouteAnswer, IngressRouteQuery } from './workers/protocol.ts';

export const FAKE_CERT_SUBJECT = '/O=Acme Co/CN=Kubernetes Ingress Controller Fake Certificate';

export interface PemPair {
  cert: string;
  key: string;
}

export class LabIngress {
  private cached: IngressConfig | undefined;
  private readonly rr: RoundRobin = new Map();
  private fake: PemPair | null | undefined;

  constructor(
    private readonly cluster: Cluster,
    /** Where the fake certificate is kept (the lab's state directory). */
    private readonly stateDir: string,
    private readonly log: (line: string) => void,
  ) {
    const dirty = () => {
      this.cached = undefined;
    };
    cluster.store.watch('Ingress', dirty);
    cluster.store.watch('Secret', dirty);
  }

  config(): IngressConfig {
    return (this.cached ??= buildIngressConfig(this.cluster.list('Ingress'), (ns, name) =>
      this.cluster.get('Secret', ns, name),
    ));
  }

  route(q: IngressRouteQuery): IngressRouteAnswer {
    const d = routeRequest(this.config(), q);
    if (d.kind === 'respond') {
      return { kind: 'respond', status: d.status, headers: d.headers, body: d.body };
    }
    const s = d.service;
    const ep = pickEndpoint(this.cluster, this.rr, s.namespace, s.name, s.port);
    if (ep === undefined) {
      return {
        kind: 'respond',
        status: 503,
        headers: { 'Content-Type': 'text/html' },
        body: nginxPage(503),
      };
    }
    return { kind: 'proxy', ip: ep.ip, port: ep.port, uri: d.upstreamUri };
  }

  /** The certificate for `host` (SNI): its Ingress's TLS Secret, else the fake one. */
  certificate(host: string): PemPair | undefined {
    const tls = this.config().servers.get(host.toLowerCase())?.tls;
    if (tls?.certificate !== undefined && tls.key !== undefined) {
      return {
        cert: Buffer.from(tls.certificate).toString('utf8'),
        key: Buffer.from(tls.key).toString('utf8'),
      };
    }
    return this.fakeCertificate();
  }

  private fakeCertificate(): PemPair | undefined {
    if (this.fake !== undefined) return this.fake ?? undefined;
    const cert = join(this.stateDir, 'ingress-fake.crt');
    const key = join(this.stateDir, 'ingress-fake.key');
    try {
      if (!existsSync(cert) || !existsSync(key)) {
        execFileSync(
          'openssl',
          ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '365'].concat([
            '-keyout',
            key,
            '-out',
            cert,
            '-subj',
            FAKE_CERT_SUBJECT,
          ]),
          { stdio: 'ignore' },
        );
      }
      this.fake = { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
    } catch (e) {
      this.log(`ingress: no fake certificate (${(e as Error).message}); TLS needs a Secret`);
      this.fake = null;
    }
    return this.fake ?? undefined;
  }
}
