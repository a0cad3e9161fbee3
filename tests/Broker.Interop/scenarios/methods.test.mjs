// Direct methods: `broker method invoke` on an SDK client's onDeviceMethod handler, and on a device that has gone,
// over each transport.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cli, cliJson } from '../lib/cli.mjs';
import { connectNewDevice, skipUnlessServed, transports } from '../lib/device.mjs';
import { useBroker } from '../lib/shared.mjs';

let broker;
before(async () => { broker = await useBroker(); });
after(async () => { await broker?.stop(); });

for (const transport of transports) {
  test(`${transport}: a direct method reaches the device handler and its answer comes back; an offline device gives 404103`, { timeout: 120_000 }, async (t) => {
    if (skipUnlessServed(t, broker, transport)) return;
    const { id, client } = await connectNewDevice(broker, 'method', transport);
    let closed = false;
    try {
      const requests = [];
      client.onDeviceMethod('reboot', (request, response) => {
        requests.push(request);
        response.send(200, { ok: true, echo: request.payload }).catch((error) => requests.push(error));
      });

      // onDeviceMethod subscribes (MQTT) or attaches the methods links (AMQP) in the background; --connect-timeout
      // waits for the subscription (IoT Hub's connectTimeoutInSeconds).
      const answer = await cliJson(broker, ['method', 'invoke', id, 'reboot', '--payload', '{"delay":1}', '--connect-timeout', '20', '--timeout', '30']);
      assert.deepEqual(answer, { status: 200, payload: { ok: true, echo: { delay: 1 } } });
      assert.equal(requests.length, 1);
      assert.equal(requests[0].methodName, 'reboot');
      assert.deepEqual(requests[0].payload, { delay: 1 });

      await client.close();
      closed = true;
      // A registered device that is not connected. (Not the one just closed: the broker handles its DISCONNECT
      // or its link detach asynchronously, and a call racing it would wait for an answer instead of failing at once.)
      const offlineId = `${id}-offline`;
      const created = await cli(broker, ['device', 'create', offlineId]);
      assert.equal(created.code, 0, created.stderr);
      const offline = await cli(broker, ['method', 'invoke', offlineId, 'reboot', '--payload', '{"delay":1}', '--timeout', '5']);
      assert.equal(offline.code, 1, `exit code ${offline.code}, stdout: ${offline.stdout}`);
      assert.match(offline.stderr, /404103/);
    } finally {
      if (!closed) await client.close();
    }
  });
}
