/**
 * `serve`: runs the HTTP service (the same as `npm start`) with the configuration from the
 * environment; `--port` and `--host` override PORT and HOST. SIGTERM/SIGINT drain it and exit 0;
 * a service that cannot start exits 1 after logging why.
 */
import { InvalidArgumentError, type Command } from 'commander';

function port(value: string): string {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return value;
}

/** Registers `serve`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP service (configured by the environment, see .env.example; production mode unless LEASING_MODE=development)')
    .option('--port <port>', 'port to listen on (default: $PORT, else 3001; 0 picks a free one)', port)
    .option('--host <host>', 'address to listen on (default: $HOST, else 0.0.0.0; 127.0.0.1 with LEASING_MODE=development)')
    .action(async (options: { port?: string; host?: string }) => {
      const env = { ...process.env };
      if (options.port !== undefined) env['PORT'] = options.port;
      if (options.host !== undefined) env['HOST'] = options.host;
      // Loaded here, not at the top: the service's modules (fastify, viem, x402) take about a
      // second to load, which every other command and `--help` would pay for nothing.
      const { ServiceStartError, startService } = await import('../../service.js');
      try {
        await startService({ env });
      } catch (error) {
        if (!(error instanceof ServiceStartError)) throw error;
        process.exit(1);
      }
    });
}
