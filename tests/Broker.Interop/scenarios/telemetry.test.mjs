// Device → cloud: the SDK's sendEvent with system and application properties, read back with `broker monitor`,
// over each transport.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import device from 'azure-iot-device'; // CommonJS: named imports are not all detected
import { cliJsonLines } from '../lib/cli.mjs';
import { connectNewDevice, skipUnlessServed, transports, whileConnected } from '../lib/device.mjs';
import { useBroker } from '../lib/shared.mjs';

const { Message } = device;

let broker;
before(async () => { broker = await useBroker(); });
after(async () => { await broker?.stop(); });

for (const transport of transports) {
  test(`${transport}: telemetry with system and application properties arrives at the events endpoint as sent`, { timeout: 90_000 }, async (t) => {
    if (skipUnlessServed(t, broker, transport)) return;
    const device = await connectNewDevice(broker, 'telemetry', transport);
    const { id, client } = device;
    try {
      const message = new Message(JSON.stringify({ temperature: 21.5, unit: 'C' }));
      message.messageId = `mid-${id}`;
      message.correlationId = `corr-${id}`;
      message.contentType = 'application/json';
      message.contentEncoding = 'utf-8';
      message.properties.add('sensor', 'thermostat');
      message.properties.add('special', 'a b&c=d/é?'); // MQTT: percent-encoded in the topic by the SDK
      const sent = await whileConnected(device, client.sendEvent(message)); // resolves on PUBACK (MQTT) or Accepted (AMQP)
      assert.equal(sent.constructor.name, 'MessageEnqueued');

      const events = await cliJsonLines(broker, ['monitor', '--device', id, '--from', 'start', '--max', '1', '--timeout', '30']);
      assert.equal(events.length, 1, 'broker monitor printed no event within 30 s');
      const { event } = events[0];
      assert.equal(event.origin, id);
      assert.deepEqual(event.payload, { temperature: 21.5, unit: 'C' });
      assert.equal(event.properties.system.message_id, `mid-${id}`);
      assert.equal(event.properties.system.correlation_id, `corr-${id}`);
      assert.equal(event.properties.system.content_type, 'application/json');
      assert.equal(event.properties.system.content_encoding, 'utf-8');
      assert.deepEqual(event.properties.application, { sensor: 'thermostat', special: 'a b&c=d/é?' });
      assert.equal(event.annotations['iothub-connection-device-id'], id);
    } finally {
      await client.close();
    }
  });
}
