// The storage conformance suite on the embedded PGlite backend (in memory).
import { runConformanceSuite } from './conformance/index.js';
import { backend } from './support/backends.js';

runConformanceSuite(backend('pglite').conformance());
