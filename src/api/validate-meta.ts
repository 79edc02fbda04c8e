// ObjectMeta, labels, annotations and label selectors
// (apimachinery ValidateObjectMeta / ValidateLabels / ValidateLabelSelector).

import { forbidden, invalid, pointAt, required } from './errors.ts';
import type { FieldError, FieldPath } from './errors.ts';
import { isDNS1123Label, isQualifiedName, isValidLabelValue } from './names.ts';
import type { LabelSelector, ObjectMeta } from './types.ts';

export type NameCheck = (name: string) => string[];

export function validateLabels(
  labels: Readonly<Record<string, string>> | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const at = [...path, { key: k }];
    for (const m of isQualifiedName(k)) errs.push(pointAt(invalid(path, k, m), at));
    for (const m of isValidLabelValue(v)) errs.push(pointAt(invalid(path, v, m), at));
  }
  return errs;
}

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

export function validateAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    const at = [...path, { key: k }];
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(pointAt(invalid(path, k, m), at));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > ANNOTATIONS_MAX_BYTES) {
    errs.push({ path, message: `Too long: may not be more than ${ANNOTATIONS_MAX_BYTES} bytes` });
  }
  return errs;
}

export function validateObjectMeta(
  meta: ObjectMeta,
  nameCheck: NameCheck,
  namespaced: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const path = ['metadata'];
  if (meta.generateName !== undefined && meta.generateName !== '') {
    // A generated name gets a suffix, so a trailing '-' is fine here.
    for (const m of nameCheck(meta.generateName.replace(/-$/, 'a'))) {
      errs.push(invalid([...path, 'generateName'], meta.generateName, m));
    }
  }
  if (meta.name === undefined || meta.name === '') {
    errs.push(required([...path, 'name'], 'name or generateName is required'));
  } else {
    for (const m of nameCheck(meta.name)) errs.push(invalid([...path, 'name'], meta.name, m));
  }
  if (namespaced) {
    const ns = meta.namespace ?? '';
    if (ns === '') errs.push(required([...path, 'namespace']));
    for (const m of ns === '' ? [] : isDNS1123Label(ns)) {
      errs.push(invalid([...path, 'namespace'], ns, m));
    }
  } else if (meta.namespace !== undefined && meta.namespace !== '') {
    errs.push(forbidden([...path, 'namespace'], 'not allowed on this type'));
  }
  errs.push(...validateLabels(meta.labels, [...path, 'labels']));
  errs.push(...validateAnnotations(meta.annotations, [...path, 'annotations']));
  return errs;
}

export function validateLabelSelector(sel: LabelSelector, path: FieldPath): FieldError[] {
  const errs = validateLabels(sel.matchLabels, [...path, 'matchLabels']);
  (sel.matchExpressions ?? []).forEach((req, i) => {
    const rp = [...path, 'matchExpressions', i];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) {
          errs.push(
            required([...rp, 'values'], "must be specified when `operator` is 'In' or 'NotIn'"),
          );
        }
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          errs.push(
            forbidden(
              [...rp, 'values'],
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        }
        break;
      default:
        errs.push(
          invalid([...rp, 'operator'], req.operator ?? '', 'not a valid selector operator'),
        );
    }
    for (const m of isQualifiedName(req.key ?? '')) errs.push(invalid([...rp, 'key'], req.key, m));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(v)) errs.push(invalid([...rp, 'values', j], v, m));
    });
  });
  return errs;
}

/** True if a selector has no requirements at all (`{}` or absent). */
export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return (
    sel === undefined ||
    (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)
  );
}
