// The storage conformance suite on the in-memory backend (MockDatabase).
import { runConformanceSuite } from './conformance/index.js';
import { backend } from './support/backends.js';

runConformanceSuite(backend('memory').conformance());
