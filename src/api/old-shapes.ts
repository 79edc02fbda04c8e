// Wire objects reshaped as an older group version serves them (the reverse of convert.ts,
// which brings old manifests to the stored versions): the API server's extensions/v1beta1
// routes and a v1.15 cluster's `kubectl get ingress -o yaml` both print these.

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** networking.k8s.io/v1 IngressBackend → extensions/v1beta1 {serviceName, servicePort}. */
function oldBackend(b: unknown): unknown {
  if (!isObj(b) || !isObj(b['service'])) return b;
  const { service, ...rest } = b;
  const svc = service as Obj;
  const port = isObj(svc['port']) ? (svc['port'] as Obj) : {};
  return {
    ...rest,
    serviceName: svc['name'],
    servicePort: port['number'] ?? port['name'],
  };
}

/** A networking.k8s.io/v1 Ingress (wire form) reshaped in place as extensions/v1beta1 serves it. */
export function toExtensionsIngress(o: Obj): void {
  const spec = o['spec'];
  if (!isObj(spec)) return;
  if (spec['defaultBackend'] !== undefined) {
    spec['backend'] = oldBackend(spec['defaultBackend']);
    delete spec['defaultBackend'];
  }
  for (const rule of Array.isArray(spec['rules']) ? spec['rules'] : []) {
    const paths = isObj(rule) && isObj(rule['http']) ? rule['http']['paths'] : undefined;
    for (const p of Array.isArray(paths) ? paths : []) {
      if (isObj(p)) p['backend'] = oldBackend(p['backend']);
    }
  }
}
