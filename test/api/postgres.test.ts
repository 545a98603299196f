/** The HTTP API flow on the postgres backend. */
import { backend } from '../support/backends.js';
import { describeApiFlow } from './flow.js';

describeApiFlow(backend('postgres'));
