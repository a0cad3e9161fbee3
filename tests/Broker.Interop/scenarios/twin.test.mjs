// Device twin: getTwin, reported properties seen by `broker twin show`, desired patches from `broker twin update`,
// over each transport.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cliJson } from '../lib/cli.mjs';
import { connectNewDevice, skipUnlessServed, transports, whileConnected } from '../lib/device.mjs';
import { useBroker } from '../lib/shared.mjs';

let broker;
before(async () => { broker = await useBroker(); });
after(async () => { await broker?.stop(); });

/** twin.properties.reported.update takes a callback only. */
function updateReported(twin, patch) {
  return new Promise((resolve, reject) => twin.properties.reported.update(patch, (error) => (error ? reject(error) : resolve())));
}

for (const transport of transports) {
  test(`${transport}: reported properties reach the service twin and a desired patch reaches the device with its $version`, { timeout: 120_000 }, async (t) => {
    if (skipUnlessServed(t, broker, transport)) return;
    const device = await connectNewDevice(broker, 'twin', transport);
    const { id, client } = device;
    try {
      const twin = await whileConnected(device, client.getTwin());
      assert.equal(typeof twin.properties.desired.$version, 'number');
      assert.equal(typeof twin.properties.reported.$version, 'number');

      await whileConnected(device, updateReported(twin, { firmware: '1.2.3', telemetry: { interval: 10 } }));
      const shown = await cliJson(broker, ['twin', 'show', id]);
      assert.equal(shown.deviceId, id);
      assert.equal(shown.properties.reported.firmware, '1.2.3');
      assert.deepEqual(shown.properties.reported.telemetry, { interval: 10 });

      let timer;
      const patched = new Promise((resolve, reject) => {
        // The first call reports the desired properties the twin already has; the patch is the one with interval 5.
        twin.on('properties.desired', (desired) => { if (desired.interval === 5) resolve(desired); });
        twin.on('error', reject);
        timer = setTimeout(() => reject(new Error('no desired patch with interval 5 within 30 s')), 30_000);
      }).finally(() => clearTimeout(timer));
      // The listener's subscription (MQTT: SUBSCRIBE; AMQP: a PUT of /notifications/twin/properties/desired on the
      // twin link) went out before this request on the same connection, so once the hub has answered this one it has
      // the subscription: the desired patch below cannot be missed.
      await whileConnected(device, updateReported(twin, { ready: true }));

      const updated = await cliJson(broker, ['twin', 'update', id, '--desired', '{"interval":5}']);
      const patch = await whileConnected(device, patched);
      assert.equal(patch.interval, 5);
      assert.equal(typeof patch.$version, 'number', `the patch has no $version: ${JSON.stringify(patch)}`);
      assert.equal(patch.$version, updated.properties.desired.$version);
      assert.equal(twin.properties.desired.interval, 5);
      assert.equal(twin.properties.desired.$version, patch.$version);
    } finally {
      await client.close();
    }
  });
}
