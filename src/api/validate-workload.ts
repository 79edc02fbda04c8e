// Deployments and ReplicaSets (pkg/apis/apps/validation ValidateDeploymentSpec,
// ValidateReplicaSetSpec, ValidatePodTemplateSpecForReplicaSet).

import { invalid, invalidRaw, notSupported, required } from './errors.ts';
import type { FieldError, FieldPath } from './errors.ts';
import { isDNS1123Subdomain } from './names.ts';
import { matchesLabelSelector } from './selector.ts';
import {
  isEmptySelector,
  validateLabelSelector,
  validateLabels,
  validateObjectMeta,
} from './validate-meta.ts';
import { validatePodSpec } from './validate-pod.ts';
import type { Deployment, LabelSelector, PodTemplateSpec, ReplicaSet } from './types.ts';

const NEGATIVE = 'must be greater than or equal to 0';

function nonNegative(v: number | undefined, path: FieldPath): FieldError[] {
  return v !== undefined && v < 0 ? [invalid(path, v, NEGATIVE)] : [];
}

/** metav1.LabelSelector as Go's %#v prints it (field.Error dereferences the pointer). */
function goSelector(sel: LabelSelector): string {
  const q = (v: string): string => JSON.stringify(v);
  const ml =
    sel.matchLabels === undefined
      ? 'map[string]string(nil)'
      : `map[string]string{${Object.keys(sel.matchLabels)
          .sort()
          .map((k) => `${q(k)}:${q(sel.matchLabels?.[k] ?? '')}`)
          .join(', ')}}`;
  const reqs = sel.matchExpressions?.map((r) => {
    const values =
      r.values === undefined ? '[]string(nil)' : `[]string{${r.values.map(q).join(', ')}}`;
    return `v1.LabelSelectorRequirement{Key:${q(r.key ?? '')}, Operator:${q(r.operator ?? '')}, Values:${values}}`;
  });
  const me =
    reqs === undefined
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${reqs.join(', ')}}`;
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec,
): FieldError[] {
  const errs: FieldError[] = [];
  const sp = ['spec', 'selector'];
  if (selector === undefined) {
    errs.push(required(sp));
  } else {
    const selectorErrs = validateLabelSelector(selector, sp);
    errs.push(...selectorErrs);
    if (isEmptySelector(selector)) {
      // ReplicaSets reuse the Deployment wording verbatim.
      errs.push(invalidRaw(sp, goSelector(selector), 'empty selector is invalid for deployment'));
    }
    // LabelSelectorAsSelector fails on these, and the template is then not checked at all.
    if (selectorErrs.length > 0) {
      errs.push(invalidRaw(sp, goSelector(selector), 'invalid label selector'));
      return errs;
    }
  }
  const tp = ['spec', 'template'];
  const labels = template.metadata.labels;
  // A missing selector selects nothing (labels.Nothing()), so it never matches either.
  const matches = selector !== undefined && matchesLabelSelector(selector, labels);
  if (!matches && (selector === undefined || !isEmptySelector(selector))) {
    const detail = '`selector` does not match template `labels`';
    const lp = [...tp, 'metadata', 'labels'];
    errs.push(
      labels === undefined
        ? invalidRaw(lp, 'map[string]string(nil)', detail)
        : invalid(lp, labels, detail),
    );
  }
  errs.push(...validateLabels(labels, [...tp, 'metadata', 'labels']));
  errs.push(...validatePodSpec(template.spec, [...tp, 'spec']));
  // A controller restarts pods itself; their containers must always restart.
  const rp = template.spec.restartPolicy;
  if (rp !== undefined && rp !== 'Always') {
    errs.push(notSupported([...tp, 'spec', 'restartPolicy'], rp, ['Always']));
  }
  return errs;
}

/** maxSurge / maxUnavailable: a non-negative int or a percentage string. */
function validateIntOrPercent(v: number | string | undefined, path: FieldPath): FieldError[] {
  if (v === undefined) return [];
  if (typeof v === 'number') return nonNegative(v, path);
  if (!/^[0-9]+%$/.test(v)) {
    return [
      invalid(
        path,
        v,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ),
    ];
  }
  return Number(v.slice(0, -1)) > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
}

function isZero(v: number | string | undefined): boolean {
  return v === 0 || v === '0%';
}

function validateStrategy(d: Deployment): FieldError[] {
  const s = d.spec.strategy;
  if (s === undefined) return [];
  const path = ['spec', 'strategy'];
  const types = ['Recreate', 'RollingUpdate'];
  if (!types.includes(s.type)) return [notSupported([...path, 'type'], s.type, types)];
  const ru = s.rollingUpdate;
  if (s.type === 'Recreate') {
    return ru === undefined
      ? []
      : [
          {
            path: [...path, 'rollingUpdate'],
            message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
          },
        ];
  }
  if (ru === undefined) return [];
  const rp = [...path, 'rollingUpdate'];
  const errs = [
    ...validateIntOrPercent(ru.maxUnavailable, [...rp, 'maxUnavailable']),
    ...validateIntOrPercent(ru.maxSurge, [...rp, 'maxSurge']),
  ];
  if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
    errs.push(
      invalid([...rp, 'maxUnavailable'], ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'),
    );
  }
  return errs;
}

export function validateDeployment(d: Deployment): FieldError[] {
  const errs = validateObjectMeta(d.metadata, isDNS1123Subdomain, true);
  const spec = d.spec;
  errs.push(...nonNegative(spec.replicas, ['spec', 'replicas']));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template));
  errs.push(...validateStrategy(d));
  errs.push(...nonNegative(spec.minReadySeconds, ['spec', 'minReadySeconds']));
  errs.push(...nonNegative(spec.revisionHistoryLimit, ['spec', 'revisionHistoryLimit']));
  const pds = spec.progressDeadlineSeconds;
  if (pds !== undefined) {
    errs.push(...nonNegative(pds, ['spec', 'progressDeadlineSeconds']));
    if (pds <= (spec.minReadySeconds ?? 0)) {
      errs.push(
        invalid(['spec', 'progressDeadlineSeconds'], pds, 'must be greater than minReadySeconds'),
      );
    }
  }
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const errs = validateObjectMeta(rs.metadata, isDNS1123Subdomain, true);
  errs.push(...nonNegative(rs.spec.replicas, ['spec', 'replicas']));
  errs.push(...validateSelectorAndTemplate(rs.spec.selector, rs.spec.template));
  return errs;
}
