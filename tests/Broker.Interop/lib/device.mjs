// The device side exactly as a customer writes it: the official SDK's public API, the MQTT or AMQP transport, the
// connection string the hub hands out plus GatewayHostName, and the hub's CA passed through setOptions.
import device from 'azure-iot-device';
import amqp from 'azure-iot-device-amqp';
import http from 'azure-iot-device-http';
import mqtt from 'azure-iot-device-mqtt';
import { cliOk } from './cli.mjs';

const { Client } = device; // CommonJS packages: named imports are not all detected
const { Mqtt, MqttWs } = mqtt;
const { Amqp, AmqpWs } = amqp;
const { Http } = http;

/**
 * The transports every device scenario runs with: the SDK's transport class, the broker port it dials (TLS), the
 * GatewayHostName it is given, and why the broker may not serve it. The WebSocket transports append :443 to the host
 * themselves, so they get the bare host name.
 */
const transportsByName = {
  mqtt: { Transport: Mqtt, port: (broker) => broker.mqttsPort, gateway: (broker) => `localhost:${broker.mqttsPort}`,
    unserved: () => "the broker's MQTTS listener is not built" },
  amqp: { Transport: Amqp, port: (broker) => broker.amqpsPort, gateway: (broker) => `localhost:${broker.amqpsPort}`,
    unserved: () => "the broker's AMQPS listener is not built" },
  'mqtt-ws': { Transport: MqttWs, port: (broker) => broker.httpsPort, gateway: () => 'localhost',
    unserved: (broker) => broker.httpsUnavailable },
  'amqp-ws': { Transport: AmqpWs, port: (broker) => broker.httpsPort, gateway: () => 'localhost',
    unserved: (broker) => broker.httpsUnavailable },
  // Telemetry and C2D only (no twins or methods over HTTP), so not one of the transports every scenario runs.
  http: { Transport: Http, port: (broker) => broker.httpsPort, gateway: () => 'localhost',
    unserved: (broker) => broker.httpsUnavailable, everyScenario: false },
};

/** The transport names, in the order scenarios run them. */
export const transports = Object.keys(transportsByName).filter((name) => transportsByName[name].everyScenario !== false);

/**
 * Skips the running test (`t`) when the broker does not serve `transport` (its listener is not built), and says so;
 * returns true if it skipped.
 */
export function skipUnlessServed(t, broker, transport) {
  const { port, unserved } = transportsByName[transport];
  if (port(broker)) return false;
  t.skip(unserved(broker));
  return true;
}

// Fail at once instead of retrying for minutes, so that a failure shows the SDK's own error within the test's time.
const noRetry = { shouldRetry: () => false, nextRetryTimeout: () => 0 };

/** A device id unique to this run. */
export function deviceId(prefix) {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

/** Registers `id` with `broker device create` and returns its connection string from `broker device connection-string`. */
export async function createDevice(broker, id) {
  await cliOk(broker, ['device', 'create', id]);
  return (await cliOk(broker, ['device', 'connection-string', id])).trim();
}

/**
 * A client for the device's connection string over `transport` ('mqtt', 'amqp', 'mqtt-ws', 'amqp-ws' or 'http'), dialling
 * the broker's MQTTS, AMQPS or HTTPS (WebSocket) port and trusting its CA, with more `options` for setOptions (an
 * X.509 device's `cert` and `key`); not yet open.
 */
export async function deviceClient(broker, connectionString, transport = 'mqtt', options = {}) {
  const { Transport, gateway } = transportsByName[transport];
  const client = Client.fromConnectionString(`${connectionString};GatewayHostName=${gateway(broker)}`, Transport);
  client.setRetryPolicy(noRetry);
  // The HTTP transport's setOptions calls back only when it also gets receiver options (azure-iot-device-http 1.14.4
  // returns without calling `done` otherwise, so the promise would never settle): its default polling, once a second.
  const receiver = transport === 'http' ? { http: { receivePolicy: { interval: 1 } } } : {};
  await client.setOptions({ ca: broker.caPem, ...receiver, ...options });
  return client;
}

/**
 * Registers a new device and opens an SDK client for it. `dropped` rejects if the hub closes the connection: the SDK
 * leaves some calls (a twin GET) pending forever then, so tests race their waits against it (see `whileConnected`).
 */
export async function connectNewDevice(broker, prefix, transport = 'mqtt') {
  const id = deviceId(`${prefix}-${transport}`);
  const client = await deviceClient(broker, await createDevice(broker, id), transport);
  let drop;
  const dropped = new Promise((_, reject) => { drop = reject; });
  dropped.catch(() => {}); // observed through whileConnected
  // One listener for the client's life: removing a listener makes the SDK re-evaluate its C2D subscription.
  client.on('disconnect', (result) => {
    const cause = result?.transportObj?.message ?? result?.reason ?? 'no reason given';
    drop(new Error(`the hub closed the connection (${cause}); see the broker's log for why`));
  });
  await client.open();
  return { id, client, dropped };
}

/** `promise`, or the reason the hub closed the device's connection, whichever comes first. */
export function whileConnected(device, promise) {
  return Promise.race([promise, device.dropped]);
}

/**
 * Listens for C2D messages with one 'message' listener for the client's life (MQTT subscribes to
 * devices/{id}/messages/devicebound/#, AMQP attaches the receiver link; removing the listener would undo that) and
 * hands them out in order: `next()` resolves with the next one, or rejects on an SDK error or after `timeoutMs`.
 */
export function c2dReceiver(client) {
  const arrived = [];
  const waiting = [];
  let failure = null;
  client.on('message', (message) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(message);
    else arrived.push(message);
  });
  client.on('error', (error) => {
    failure = error;
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  });
  return {
    next(timeoutMs = 30_000) {
      if (arrived.length > 0) return Promise.resolve(arrived.shift());
      if (failure) return Promise.reject(failure);
      let timer;
      return new Promise((resolve, reject) => {
        const waiter = { resolve, reject };
        waiting.push(waiter);
        timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(new Error(`no C2D message within ${timeoutMs / 1000} s`));
        }, timeoutMs);
      }).finally(() => clearTimeout(timer));
    },
  };
}
