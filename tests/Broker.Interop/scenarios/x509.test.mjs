// X.509 devices: a self-signed certificate made with openssl, the device registered by its SHA-256 thumbprint with
// `broker device create --x509`, and the SDK connecting with `x509=true` and the certificate, over each transport.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import device from 'azure-iot-device'; // CommonJS: named imports are not all detected
import { cliJsonLines, cliOk } from '../lib/cli.mjs';
import { deviceClient, deviceId, skipUnlessServed, transports } from '../lib/device.mjs';
import { useBroker } from '../lib/shared.mjs';

const { Message } = device;
const run = promisify(execFile);

let broker;
before(async () => { broker = await useBroker(); });
after(async () => { await broker?.stop(); });

/** A self-signed client certificate (ECDSA P-256, two days) for `commonName`: its PEM, key and SHA-256 thumbprint. */
async function selfSignedCertificate(commonName) {
  const folder = await mkdtemp(join(tmpdir(), 'broker-x509-'));
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(folder, 'key.pem'), '-out', join(folder, 'cert.pem'), '-days', '2', '-subj', `/CN=${commonName}`,
      '-addext', 'extendedKeyUsage=clientAuth'], { timeout: 30_000 });
    const cert = await readFile(join(folder, 'cert.pem'), 'utf8');
    const key = await readFile(join(folder, 'key.pem'), 'utf8');
    return { cert, key, thumbprint: new X509Certificate(cert).fingerprint256.replaceAll(':', '') };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

for (const transport of transports) {
  test(`${transport}: an X.509 device registered by thumbprint connects with its certificate and sends telemetry`, { timeout: 90_000 }, async (t) => {
    if (skipUnlessServed(t, broker, transport)) return;
    const id = deviceId(`x509-${transport}`);
    const { cert, key, thumbprint } = await selfSignedCertificate(id);
    await cliOk(broker, ['device', 'create', id, '--x509', '--primary-thumbprint', thumbprint]);

    // With x509=true the SDK ignores GatewayHostName and dials HostName (at 8883 or 5671 unless it names a port; the
    // WebSocket transports always dial 443), so the TLS transports get the broker's port in HostName.
    const host = transport === 'mqtt' ? `localhost:${broker.mqttsPort}` : transport === 'amqp' ? `localhost:${broker.amqpsPort}` : 'localhost';
    const client = await deviceClient(broker, `HostName=${host};DeviceId=${id};x509=true`, transport, { cert, key });
    await client.open();
    try {
      const sent = await client.sendEvent(new Message(JSON.stringify({ x509: transport })));
      assert.equal(sent.constructor.name, 'MessageEnqueued');
      const events = await cliJsonLines(broker, ['monitor', '--device', id, '--from', 'start', '--max', '1', '--timeout', '30']);
      assert.equal(events.length, 1, 'broker monitor printed no event within 30 s');
      assert.deepEqual(events[0].event.payload, { x509: transport });
      assert.match(events[0].event.annotations['iothub-connection-auth-method'], /"type":"x509"/);
    } finally {
      await client.close();
    }
  });
}
