// The manifest layer's public surface. See docs/formats/manifests.md.

export { loadManifests, parseManifestText, listManifestFiles } from './load.ts';
export type { LoadResult } from './load.ts';
export { defaultObject, decodeObject } from './decode.ts';
export { validateObject } from './validate.ts';
export { ManifestError, formatPath } from './errors.ts';
export type { FieldError, FieldPath, PathSeg } from './errors.ts';
export { sourceOf, formatSource } from './source.ts';
export type { SourceLocation } from './source.ts';
export { KINDS, lookupKind } from './kinds.ts';
export type { KindInfo } from './kinds.ts';
export { DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, clusterLimits } from './options.ts';
export type { LoadOptions, ValidateOptions } from './options.ts';
export type { DefaultOptions } from './defaults.ts';
