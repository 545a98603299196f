/**
 * The service entry point (`npm start`, `node dist/main.js`): starts the service of
 * `./service.ts` with the configuration from the environment. SIGTERM/SIGINT drain it and exit 0;
 * a service that cannot start exits 1 after logging why.
 */
import { ServiceStartError, startService } from './service.js';

try {
  await startService();
} catch (error) {
  if (!(error instanceof ServiceStartError)) throw error;
  process.exit(1);
}
