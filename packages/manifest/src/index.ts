export { checkManifestInvariants, EMPTY_MANIFEST, ManifestConflictError, manifestKey, ManifestStore, type Manifest, type SlabRef } from './manifest.ts';
