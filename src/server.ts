import type { Server } from 'node:http';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, redactedUrl } from './config.ts';
import { createContext } from './context.ts';
import { createHttpServer } from './http/http-server.ts';
import { startMaintenance } from './maintenance.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const ctx = await createContext(config, { log: (message) => console.log(message) });
  const stopMaintenance = startMaintenance(ctx, (message) => console.log(message));
  const server = createHttpServer(createApp(ctx)).listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const data = config.databaseUrl ? redactedUrl(config.databaseUrl) : config.dataDir;
    console.log(`guestkit listening on http://${config.host}:${port} (${config.env}, data in ${data})`);
  });
  server.on('error', (error) => {
    console.error(`Could not start the server: ${error.message}`);
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: finishing in-flight requests`);
    stopMaintenance();
    const force = setTimeout(() => {
      console.error('Shutdown took over 10 s: exiting anyway');
      process.exit(1);
    }, 10_000);
    force.unref();
    closeServer(server).then(() => ctx.close()).then(() => {
      console.log('Stopped cleanly');
      process.exit(0);
    }, (error: Error) => {
      console.error(`Shutdown failed: ${error.message}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Stops accepting connections, lets in-flight requests finish, and drops idle keep-alives. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
    // A connection busy now turns idle once its answer is sent: close it then, not after the
    // 5 s keep-alive timeout, so the process exits as soon as the last request is answered.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.once('close', () => clearInterval(sweep));
  });
}

main().catch((error: unknown) => {
  console.error(`Could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
