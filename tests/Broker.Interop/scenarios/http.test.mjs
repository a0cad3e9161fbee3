// The device SDK's HTTP transport (azure-iot-device-http) against the broker's device HTTPS API on 443: telemetry
// with properties, and a C2D message received by polling, abandoned, received again and completed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import device from 'azure-iot-device'; // CommonJS: named imports are not all detected
import { cliJson, cliJsonLines, cliOk } from '../lib/cli.mjs';
import { c2dReceiver, connectNewDevice, skipUnlessServed } from '../lib/device.mjs';
import { useBroker } from '../lib/shared.mjs';

const { Message } = device;

let broker;
before(async () => { broker = await useBroker(); });
after(async () => { await broker?.stop(); });

test('http: telemetry arrives with its properties; a C2D message is polled, abandoned, polled again and completed', { timeout: 120_000 }, async (t) => {
  if (skipUnlessServed(t, broker, 'http')) return;
  const { id, client } = await connectNewDevice(broker, 'device', 'http');
  try {
    const message = new Message(JSON.stringify({ temperature: 19 }));
    message.messageId = `mid-${id}`;
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('sensor', 'http one');
    const sent = await client.sendEvent(message); // 204 once stored
    assert.equal(sent.constructor.name, 'MessageEnqueued');
    const events = await cliJsonLines(broker, ['monitor', '--device', id, '--from', 'start', '--max', '1', '--timeout', '30']);
    assert.equal(events.length, 1, 'broker monitor printed no event within 30 s');
    const { event } = events[0];
    assert.deepEqual(event.payload, { temperature: 19 });
    assert.equal(event.properties.system.message_id, `mid-${id}`);
    assert.equal(event.properties.system.content_type, 'application/json');
    assert.deepEqual(event.properties.application, { sensor: 'http one' });

    await cliOk(broker, ['c2d', 'send', id, 'polled', '--message-id', `c2d-${id}`, '--property', 'k=v', '--ack', 'full']);
    const receiver = c2dReceiver(client); // the SDK polls GET …/messages/devicebound once a second
    const first = await receiver.next();
    assert.equal(first.messageId, `c2d-${id}`);
    assert.equal(first.data.toString(), 'polled');
    assert.equal(first.properties.getValue('iothub-app-k'), 'v');
    assert.ok(first.lockToken, 'no lock token (ETag)');
    await client.abandon(first);

    const second = await receiver.next();
    assert.equal(second.messageId, `c2d-${id}`);
    assert.notEqual(second.lockToken, first.lockToken);
    await client.complete(second);
    const feedback = await cliJson(broker, ['c2d', 'feedback', '--count', '1']);
    assert.ok(feedback.some((record) => record.originalMessageId === `c2d-${id}` && record.statusCode === 'Success'),
      `no Success feedback for c2d-${id} in ${JSON.stringify(feedback)}`);
  } finally {
    await client.close();
  }
});
