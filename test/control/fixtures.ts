// Object builders for control-plane tests: defaulted objects as the loader would hand them over.
import type {
  Container,
  Deployment,
  Endpoints,
  Pod,
  Service,
  ServicePort,
} from '../../src/api/types.ts';

export const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';

export function container(
  ports: Container['ports'] = [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
  image = 'wangyanglinux/myapp:v2',
): Container {
  return { name: 'myapp', image, imagePullPolicy: 'IfNotPresent', ports };
}

export function deployment(
  name: string,
  replicas: number,
  labels: Record<string, string>,
  opts: { selector?: Record<string, string>; containers?: Container[]; namespace?: string } = {},
): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: {
      replicas,
      selector: { matchLabels: opts.selector ?? labels },
      template: {
        metadata: { labels },
        spec: {
          containers: opts.containers ?? [container()],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  };
}

export function service(
  name: string,
  selector: Record<string, string> | undefined,
  ports: Partial<ServicePort>[] = [{ name: 'http', port: 80, targetPort: 80 }],
  spec: Partial<Service['spec']> = {},
): Service {
  const svc: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: {
      type: 'ClusterIP',
      ports: ports.map(
        (p) => ({ protocol: 'TCP', port: 80, targetPort: p.port ?? 80, ...p }) as ServicePort,
      ),
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ...spec,
    },
  };
  if (selector !== undefined) svc.spec.selector = selector;
  return svc;
}

export function pod(
  name: string,
  labels: Record<string, string>,
  containers: Container[] = [container()],
  extra: Partial<Pod['spec']> = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: { containers, restartPolicy: 'Always', ...extra },
    status: { phase: 'Pending' },
  };
}

export function endpoints(name: string, ips: string[], port: number): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: 'default' },
    subsets: [
      { addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port, protocol: 'TCP' }] },
    ],
  };
}

/** The seed walkthrough's svc-deployment.yaml and svc.yaml. */
export const MYAPP_LABELS = { app: 'myapp', release: 'stabel', env: 'test' };
export function myapp(): [Deployment, Service] {
  return [
    deployment('myapp-deploy', 3, MYAPP_LABELS, { selector: { app: 'myapp', release: 'stabel' } }),
    service('myapp', { app: 'myapp', release: 'stabel' }),
  ];
}
