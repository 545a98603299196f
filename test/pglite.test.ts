// The storage conformance suite on the embedded PGlite backend (in memory).
import { runConformanceSuite } from './conformance/index.js';
import { pgliteBackend } from './support/backends.js';

runConformanceSuite(pgliteBackend());
