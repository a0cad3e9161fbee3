// Cloud → device: `broker c2d send` to an SDK client listening on 'message', then the feedback of its completion.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cliJson, cliOk } from '../lib/cli.mjs';
import { connectNewDevice, whileConnected } from '../lib/device.mjs';
import { useBroker } from '../lib/shared.mjs';

let broker;
before(async () => { broker = await useBroker(); });
after(async () => { await broker?.stop(); });

test('a C2D message reaches the device with its body, id and properties, and completing it gives Success feedback', { timeout: 120_000 }, async () => {
  const device = await connectNewDevice(broker, 'c2d');
  const { id, client } = device;
  try {
    let timer;
    const received = new Promise((resolve, reject) => {
      client.on('message', resolve); // subscribes to devices/{id}/messages/devicebound/#
      client.on('error', reject);
      timer = setTimeout(() => reject(new Error('no C2D message within 30 s')), 30_000);
    }).finally(() => clearTimeout(timer));

    const messageId = `c2d-${id}`;
    const printed = await cliOk(broker, ['c2d', 'send', id, 'hello device', '--property', 'color=blue', '--property', 'expr=a&b+c%d',
      '--message-id', messageId, '--ack', 'full']);
    assert.equal(printed.trim(), messageId);

    const message = await whileConnected(device, received);
    assert.equal(message.data.toString('utf8'), 'hello device');
    assert.equal(message.messageId, messageId);
    assert.equal(message.properties.getValue('color'), 'blue');
    assert.equal(message.properties.getValue('expr'), 'a&b+c%d');
    await whileConnected(device, client.complete(message)); // a no-op on MQTT: the SDK's PUBACK already completed it

    const feedback = await cliJson(broker, ['c2d', 'feedback', '--count', '1']);
    assert.ok(Array.isArray(feedback), `feedback is not a JSON array: ${JSON.stringify(feedback)}`);
    const record = feedback.find((r) => r.originalMessageId === messageId);
    assert.ok(record, `no feedback record for ${messageId} in ${JSON.stringify(feedback)}`);
    assert.equal(record.statusCode, 'Success');
    assert.equal(record.deviceId, id);
  } finally {
    await client.close();
  }
});
