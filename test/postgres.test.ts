// The storage conformance suite on a real PostgreSQL server (its own database, dropped after).
import { runConformanceSuite } from './conformance/index.js';
import { postgresBackend } from './support/backends.js';

runConformanceSuite(postgresBackend());
