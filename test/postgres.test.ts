// The storage conformance suite on a real PostgreSQL server (its own database, dropped after).
import { runConformanceSuite } from './conformance/index.js';
import { backend } from './support/backends.js';

runConformanceSuite(backend('postgres').conformance());
