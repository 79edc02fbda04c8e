// Label selectors with apimachinery semantics (k8s.io/apimachinery/pkg/labels and
// metav1.LabelSelectorAsSelector): matching, kubectl-style formatting and parsing.
import type { LabelSelector, LabelSelectorRequirement } from './types.ts';

export type Labels = Readonly<Record<string, string>> | undefined;

function hasLabel(labels: Labels, key: string): boolean {
  return labels !== undefined && Object.prototype.hasOwnProperty.call(labels, key);
}

/** One requirement of a selector (In / NotIn / Exists / DoesNotExist). */
export function matchesRequirement(req: LabelSelectorRequirement, labels: Labels): boolean {
  const present = hasLabel(labels, req.key);
  switch (req.operator) {
    case 'In':
      return present && (req.values ?? []).includes(labels![req.key]!);
    case 'NotIn':
      // A missing key satisfies NotIn (labels.Requirement.Matches).
      return !present || !(req.values ?? []).includes(labels![req.key]!);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
  }
}

/**
 * A metav1.LabelSelector: matchLabels AND matchExpressions. An empty selector `{}`
 * matches everything; an absent (nil) selector matches nothing, as LabelSelectorAsSelector.
 */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  const ml = selector.matchLabels;
  if (ml !== undefined) {
    for (const key in ml) {
      if (!hasLabel(labels, key) || labels![key] !== ml[key]) return false;
    }
  }
  for (const req of selector.matchExpressions ?? []) {
    if (!matchesRequirement(req, labels)) return false;
  }
  return true;
}

/**
 * True if a Service's plain map selector is set. A Service with no (or an empty)
 * selector gets no managed endpoints: the API server stores `{}` as nil, and the
 * endpoint controllers skip nil selectors (the user manages Endpoints by hand).
 */
export function hasServiceSelector(
  selector: Readonly<Record<string, string>> | undefined,
): boolean {
  if (selector === undefined) return false;
  for (const _ in selector) return true;
  return false;
}

/** A Service's map selector; false when the Service has no selector (see hasServiceSelector). */
export function matchesServiceSelector(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Labels,
): boolean {
  if (!hasServiceSelector(selector)) return false;
  for (const key in selector) {
    if (!hasLabel(labels, key) || labels![key] !== selector[key]) return false;
  }
  return true;
}

// ---- formatting ------------------------------------------------------------------

function reqString(r: LabelSelectorRequirement): string {
  const vals = [...(r.values ?? [])].sort();
  switch (r.operator) {
    case 'In':
      return vals.length === 1 ? `${r.key} in (${vals[0]})` : `${r.key} in (${vals.join(',')})`;
    case 'NotIn':
      return `${r.key} notin (${vals.join(',')})`;
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
  }
}

/** A plain map as labels.Set.String() prints it: keys sorted, `k=v` joined by commas. */
export function formatSelectorMap(map: Readonly<Record<string, string>> | undefined): string {
  if (map === undefined) return '';
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${map[k]}`)
    .join(',');
}

/**
 * A LabelSelector as kubectl prints it (`-o wide` SELECTOR column), e.g.
 * `app=myapp,release=stabel` or `app=myapp,tier in (a,b),!canary`. Requirements
 * are sorted by key (labels.internalSelector); nil prints as '<none>' in kubectl,
 * which is the caller's business: this returns '' for undefined.
 */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  if (selector === undefined) return '';
  const parts: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    parts.push({ key, text: `${key}=${value}` });
  }
  for (const r of selector.matchExpressions ?? []) parts.push({ key: r.key, text: reqString(r) });
  // Stable sort by key only, like sort.Stable(ByKey(requirements)).
  parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return parts.map((p) => p.text).join(',');
}

// ---- parsing (kubectl -l / --selector) --------------------------------------------

/**
 * Parse a selector string (`app=myapp,env!=prod,tier in (a,b),!canary,release`) into a
 * LabelSelector. `=`/`==` become matchLabels; `!=` becomes NotIn with one value.
 * Throws on malformed input. '' parses to `{}` (everything).
 */
export function parseSelector(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  let i = 0;
  const s = text;
  const fail = (why: string): never => {
    throw new Error(`unable to parse requirement: ${why} in selector ${JSON.stringify(text)}`);
  };
  const skipWs = (): void => {
    while (i < s.length && s[i] === ' ') i++;
  };
  const word = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && /[A-Za-z0-9_.\-/]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  skipWs();
  if (i === s.length) return {};
  for (;;) {
    skipWs();
    let negate = false;
    if (s[i] === '!') {
      negate = true;
      i++;
    }
    const key = word();
    if (key === '') fail('missing key');
    skipWs();
    if (negate) {
      matchExpressions.push({ key, operator: 'DoesNotExist' });
    } else if (s.startsWith('!=', i)) {
      i += 2;
      matchExpressions.push({ key, operator: 'NotIn', values: [word()] });
    } else if (s.startsWith('==', i) || s[i] === '=') {
      i += s.startsWith('==', i) ? 2 : 1;
      matchLabels[key] = word();
    } else if (/^(in|notin)\s*\(/.test(s.slice(i))) {
      const op = s.startsWith('notin', i) ? 'NotIn' : 'In';
      i = s.indexOf('(', i) + 1;
      const close = s.indexOf(')', i);
      if (close < 0) fail('missing )');
      const values = s
        .slice(i, close)
        .split(',')
        .map((v) => v.trim());
      if (values.some((v) => !/^[A-Za-z0-9_.-]*$/.test(v))) fail('bad value');
      matchExpressions.push({ key, operator: op, values });
      i = close + 1;
    } else {
      matchExpressions.push({ key, operator: 'Exists' });
    }
    skipWs();
    if (i === s.length) break;
    if (s[i] !== ',') fail(`unexpected ${JSON.stringify(s[i])}`);
    i++;
  }
  const out: LabelSelector = {};
  if (Object.keys(matchLabels).length > 0) out.matchLabels = matchLabels;
  if (matchExpressions.length > 0) out.matchExpressions = matchExpressions;
  return out;
}
