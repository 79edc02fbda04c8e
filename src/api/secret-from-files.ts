// `kubectl create secret tls|generic`: the Secret object it posts, from files and literals.
// Shared by the scenario's kubectl and `svclab lab create secret`.
import type { Secret } from './types.ts';

export interface SecretSource {
  /** tls: the certificate and key files. */
  cert?: string;
  key?: string;
  /** generic: `--from-file=[KEY=]PATH` (the key defaults to the file's base name). */
  fromFile?: readonly string[];
  /** generic: `--from-literal=KEY=VALUE`. */
  fromLiteral?: readonly string[];
}

/** The Secret, or an error message as kubectl prints it. */
export function secretFromFiles(
  type: string | undefined,
  name: string,
  namespace: string,
  src: SecretSource,
  readFile: (path: string) => Uint8Array,
): Secret | string {
  const data: Record<string, Uint8Array> = {};
  let secretType = 'Opaque';
  if (type === 'tls') {
    if (src.cert === undefined || src.key === undefined) {
      return 'error: --cert and --key are required for a tls secret';
    }
    secretType = 'kubernetes.io/tls';
    data['tls.crt'] = readFile(src.cert);
    data['tls.key'] = readFile(src.key);
  } else if (type === 'generic') {
    for (const f of src.fromFile ?? []) {
      const [key, path] = f.includes('=')
        ? (f.split('=', 2) as [string, string])
        : [f.split('/').pop()!, f];
      data[key] = readFile(path);
    }
    for (const l of src.fromLiteral ?? []) {
      const [key, ...rest] = l.split('=');
      data[key!] = Buffer.from(rest.join('='));
    }
  } else return `error: unknown secret type "${type}" (tls or generic)`;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: secretType,
    data,
  };
}
