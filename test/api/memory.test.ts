/** The HTTP API flow on the memory backend. */
import { backend } from '../support/backends.js';
import { describeApiFlow } from './flow.js';

describeApiFlow(backend('memory'));
