// Cloud → device: `broker c2d send` to an SDK client listening on 'message', then the feedback of its settlement,
// over each transport; over AMQP also abandon (redelivery) and reject (Rejected feedback), which MQTT cannot do.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cliJson, cliOk } from '../lib/cli.mjs';
import { c2dReceiver, connectNewDevice, skipUnlessServed, transports, whileConnected } from '../lib/device.mjs';
import { useBroker } from '../lib/shared.mjs';

let broker;
before(async () => { broker = await useBroker(); });
after(async () => { await broker?.stop(); });

/** The feedback record for `messageId` from the next feedback message (`broker c2d feedback --count 1`). */
async function feedbackFor(messageId) {
  const feedback = await cliJson(broker, ['c2d', 'feedback', '--count', '1']);
  assert.ok(Array.isArray(feedback), `feedback is not a JSON array: ${JSON.stringify(feedback)}`);
  const record = feedback.find((r) => r.originalMessageId === messageId);
  assert.ok(record, `no feedback record for ${messageId} in ${JSON.stringify(feedback)}`);
  return record;
}

for (const transport of transports) {
  test(`${transport}: a C2D message reaches the device with its body, id and properties, and completing it gives Success feedback`, { timeout: 120_000 }, async (t) => {
    if (skipUnlessServed(t, broker, transport)) return;
    const device = await connectNewDevice(broker, 'c2d', transport);
    const { id, client } = device;
    try {
      const receiver = c2dReceiver(client);
      const messageId = `c2d-${id}`;
      const printed = await cliOk(broker, ['c2d', 'send', id, 'hello device', '--property', 'color=blue', '--property', 'expr=a&b+c%d',
        '--message-id', messageId, '--ack', 'full']);
      assert.equal(printed.trim(), messageId);

      const message = await whileConnected(device, receiver.next());
      assert.equal(message.data.toString('utf8'), 'hello device');
      assert.equal(message.messageId, messageId);
      assert.equal(message.properties.getValue('color'), 'blue');
      assert.equal(message.properties.getValue('expr'), 'a&b+c%d');
      // MQTT: a no-op, the SDK's PUBACK already completed it. AMQP: the Accepted disposition completes it.
      const completed = await whileConnected(device, client.complete(message));
      assert.equal(completed.constructor.name, 'MessageCompleted');

      const record = await feedbackFor(messageId);
      assert.equal(record.statusCode, 'Success');
      assert.equal(record.deviceId, id);
    } finally {
      await client.close();
    }
  });
}

test('amqp: an abandoned C2D message comes back, and rejecting it gives Rejected feedback', { timeout: 120_000 }, async (t) => {
  if (skipUnlessServed(t, broker, 'amqp')) return;
  const device = await connectNewDevice(broker, 'c2d-settle', 'amqp');
  const { id, client } = device;
  try {
    const receiver = c2dReceiver(client);
    const messageId = `c2d-settle-${id}`;
    await cliOk(broker, ['c2d', 'send', id, 'settle me', '--message-id', messageId, '--ack', 'negative']);

    // abandon → Released: the hub puts the message back and delivers it again on the same link.
    const first = await whileConnected(device, receiver.next());
    assert.equal(first.messageId, messageId);
    const abandoned = await whileConnected(device, client.abandon(first));
    assert.equal(abandoned.constructor.name, 'MessageAbandoned');

    const again = await whileConnected(device, receiver.next());
    assert.equal(again.messageId, messageId);
    assert.equal(again.data.toString('utf8'), 'settle me');

    // reject → Rejected: the message is dead-lettered and, with --ack negative, the feedback says so.
    const rejected = await whileConnected(device, client.reject(again));
    assert.equal(rejected.constructor.name, 'MessageRejected');
    const record = await feedbackFor(messageId);
    assert.equal(record.statusCode, 'Rejected');
    assert.equal(record.deviceId, id);
  } finally {
    await client.close();
  }
});
