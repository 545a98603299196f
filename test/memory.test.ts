/** The conformance suite against the in-memory backend: every store is a new MockDatabase. */
import { MockDatabase } from '../src/storage/backends/memory/mock-database.js';
import { runConformanceSuite } from './conformance/index.js';

runConformanceSuite({
  name: 'memory',
  create: () => Promise.resolve(new MockDatabase()),
});
