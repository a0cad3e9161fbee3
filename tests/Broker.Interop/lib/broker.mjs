// Starts the real broker (`dotnet broker.dll serve`) as a child process on loopback, with its MQTTS, AMQPS and
// management listeners on ports the OS picks and HTTPS on 443, and reads the bound ports from its startup log.
// Every wait is bounded.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root (tests/Broker.Interop/lib → ../../..). */
export const repoRoot = resolve(here, '..', '..', '..');

/** Where `dotnet build src/Broker.Host -c Release` puts the broker; BROKER_DLL overrides it. */
export function brokerDll() {
  const dll = process.env.BROKER_DLL || join(repoRoot, 'src', 'Broker.Host', 'bin', 'Release', 'net10.0', 'broker.dll');
  if (!existsSync(dll)) {
    throw new Error(`no broker at ${dll}: run 'dotnet build src/Broker.Host -c Release' first, or set BROKER_DLL`);
  }
  return dll;
}

// "Mqtts listening on mqtts://127.0.0.1:40123." / "Management listening on http://127.0.0.1:40124."
const listening = /\b(\w+) listening on (\w+):\/\/(\S+):(\d+)\.?\s*$/;
// "Amqps listener (port -1) not opened: the protocol is not built yet." (logged before the listeners open)
const notBuilt = /\b(\w+) listener \(port -?\d+\) not opened\b/;

// The SDK's WebSocket transports (MqttWs, AmqpWs) dial wss://{GatewayHostName}:443 whatever the host name says, so
// the broker's HTTPS listener must be on 443 for them: taken when this process may bind it on loopback.
const webSocketPort = 443;

/** Whether 127.0.0.1:`port` can be bound by this process now (free, and privileged enough). */
function canListen(port) {
  return new Promise((resolveListen) => {
    const server = createServer();
    server.once('error', () => resolveListen(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveListen(true)));
  });
}

/**
 * A running broker: its data folder, the CA its TLS listeners chain to, and the bound ports (`amqpsPort` is
 * undefined when the broker says its AMQP listeners are not built; `httpsPort` when HTTPS is not open, with
 * `httpsUnavailable` saying why).
 * @typedef {{ dll: string, dataDir: string, caPem: string, mqttsPort: number, amqpsPort: number | undefined,
 *   httpsPort: number | undefined, httpsUnavailable: string | undefined,
 *   managementPort: number, server: string, recentLog: () => string, stop: () => Promise<void> }} Broker
 */

/**
 * Starts a broker on a new temporary data folder and resolves once its MQTTS, AMQPS and management listeners are open
 * (or the broker has said that AMQPS is not built).
 * @returns {Promise<Broker>}
 */
export async function startBroker({ readyTimeoutMs = 60_000 } = {}) {
  const dll = brokerDll();
  const dataDir = await mkdtemp(join(tmpdir(), 'broker-interop-'));

  // Only our settings: no BROKER_* of the caller's environment, no appsettings.json of its working directory.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^BROKER_/i.test(name)));
  // -1 binds any free port (the --*-port flags only take 0..65535, 0 meaning off).
  env.BROKER_Listeners__MqttsPort = '-1';
  env.BROKER_Listeners__AmqpsPort = '-1';
  env.BROKER_Listeners__ManagementPort = '-1';
  // IoT Hub offers a feedback record after up to 15 s to fill a batch; a test has no reason to wait that long.
  env.BROKER_CloudToDevice__FeedbackBatchDelay = '00:00:01';
  const https = await canListen(webSocketPort);

  const child = spawn('dotnet', [
    dll, 'serve', '--data', dataDir, '--hostname', 'localhost', '--bind', '127.0.0.1',
    '--mqtt-port', '0', '--amqp-port', '0', '--https-port', https ? String(webSocketPort) : '0',
  ], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });

  const log = [];
  const ports = {};
  const unbuilt = new Set();
  let exited = null;
  const exit = new Promise((resolveExit) => child.once('exit', (code, signal) => {
    exited = { code, signal };
    resolveExit(exited);
  }));
  const recentLog = () => log.join('\n');

  const ready = new Promise((resolveReady, rejectReady) => {
    const onLine = (line) => {
      log.push(line);
      if (log.length > 200) log.shift();
      const match = listening.exec(line);
      if (match) ports[match[1]] = Number(match[4]);
      const missing = notBuilt.exec(line);
      if (missing) unbuilt.add(missing[1]);
      if (ports.Mqtts && ports.Management && (ports.Amqps || unbuilt.has('Amqps'))
        && (!https || ports.Https || unbuilt.has('Https'))) resolveReady();
    };
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        pending += chunk;
        let newline;
        while ((newline = pending.indexOf('\n')) >= 0) {
          onLine(pending.slice(0, newline).replace(/\r$/, ''));
          pending = pending.slice(newline + 1);
        }
      });
    }
    child.once('error', rejectReady);
    exit.then(({ code, signal }) => rejectReady(new Error(`the broker exited (code ${code}, signal ${signal}) before it was ready`)));
  });

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exit, timeout(30_000)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await Promise.race([exit, timeout(10_000)]);
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  let timer;
  try {
    await Promise.race([
      ready,
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`the broker was not listening within ${readyTimeoutMs} ms`)), readyTimeoutMs); }),
    ]);
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n--- broker log ---\n${recentLog()}`);
  } finally {
    clearTimeout(timer);
  }

  const caPem = await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8');
  return {
    dll,
    dataDir,
    caPem,
    mqttsPort: ports.Mqtts,
    amqpsPort: ports.Amqps,
    httpsPort: ports.Https,
    httpsUnavailable: ports.Https ? undefined
      : https ? 'the broker did not open its HTTPS listener (see its log)'
        : `127.0.0.1:${webSocketPort} cannot be bound by this process, and the SDK's WebSocket transports dial ${webSocketPort} only`,
    managementPort: ports.Management,
    server: `http://127.0.0.1:${ports.Management}`,
    recentLog,
    stop,
  };
}

function timeout(ms) {
  return new Promise((resolveTimeout) => setTimeout(() => resolveTimeout(null), ms).unref());
}
