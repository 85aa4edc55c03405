export {
  checkManifestInvariants,
  EMPTY_MANIFEST,
  ManifestConflictError,
  manifestKey,
  ManifestStore,
  type Manifest,
  type ManifestChange,
  type SlabRef,
} from './manifest.ts';
