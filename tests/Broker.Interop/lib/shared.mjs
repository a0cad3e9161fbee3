// One broker per run: run.mjs starts it and hands it to the scenario processes through the environment; a scenario
// file run on its own (`node --test scenarios/x.test.mjs`) starts its own.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brokerDll, startBroker } from './broker.mjs';

const names = ['INTEROP_BROKER_DATA', 'INTEROP_BROKER_MQTTS_PORT', 'INTEROP_BROKER_MANAGEMENT_PORT'];

/** The environment that lets child processes use `broker` (see useBroker). */
export function brokerEnvironment(broker) {
  return {
    INTEROP_BROKER_DATA: broker.dataDir,
    INTEROP_BROKER_MQTTS_PORT: String(broker.mqttsPort),
    INTEROP_BROKER_AMQPS_PORT: broker.amqpsPort ? String(broker.amqpsPort) : '', // empty: AMQP is not built
    INTEROP_BROKER_HTTPS_PORT: broker.httpsPort ? String(broker.httpsPort) : '', // empty: HTTPS is not open
    INTEROP_BROKER_HTTPS_UNAVAILABLE: broker.httpsUnavailable ?? '',
    INTEROP_BROKER_MANAGEMENT_PORT: String(broker.managementPort),
    // The service SDK trusts the broker's CA only this way (read when node starts): for the scenario processes.
    NODE_EXTRA_CA_CERTS: join(broker.dataDir, 'tls', 'ca.crt'),
  };
}

/** The broker of this run if run.mjs started one, else a new one that `release` stops. */
export async function useBroker() {
  if (names.every((name) => process.env[name])) {
    const dataDir = process.env.INTEROP_BROKER_DATA;
    const managementPort = Number(process.env.INTEROP_BROKER_MANAGEMENT_PORT);
    const broker = {
      dll: brokerDll(),
      dataDir,
      caPem: await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8'),
      mqttsPort: Number(process.env.INTEROP_BROKER_MQTTS_PORT),
      amqpsPort: process.env.INTEROP_BROKER_AMQPS_PORT ? Number(process.env.INTEROP_BROKER_AMQPS_PORT) : undefined,
      httpsPort: process.env.INTEROP_BROKER_HTTPS_PORT ? Number(process.env.INTEROP_BROKER_HTTPS_PORT) : undefined,
      httpsUnavailable: process.env.INTEROP_BROKER_HTTPS_UNAVAILABLE || undefined,
      managementPort,
      server: `http://127.0.0.1:${managementPort}`,
      recentLog: () => '(the broker is run.mjs\'s; its log is printed there)',
      stop: async () => {},
    };
    return broker;
  }
  return startBroker();
}
