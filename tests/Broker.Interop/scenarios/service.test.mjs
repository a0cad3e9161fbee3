// The official service SDK (azure-iothub) against the broker's service REST API on HTTPS: the identity registry,
// twins with etags, and direct methods, as a back end calls them. The device side is the device SDK over MQTT.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import iothub from 'azure-iothub';
import { deviceClient, deviceId } from '../lib/device.mjs';
import { useBroker } from '../lib/shared.mjs';

const { JobClient, Registry, Client: ServiceClient } = iothub; // CommonJS package

let broker;
before(async () => { broker = await useBroker(); });
after(async () => { await broker?.stop(); });

/** The reason the service SDK cannot reach this broker, or undefined if it can. */
function unreachable() {
  // The SDK dials https://{HostName}:443 with its own agent and Node's trusted CAs, which take the broker's only
  // through NODE_EXTRA_CA_CERTS, read when node starts: run.mjs sets it for the scenario processes.
  if (!broker.httpsPort) return broker.httpsUnavailable;
  if (broker.httpsPort !== 443) return `the service SDK dials 443 and the broker's HTTPS is on ${broker.httpsPort}`;
  if (!process.env.NODE_EXTRA_CA_CERTS) return 'NODE_EXTRA_CA_CERTS is not set (run the suite with run.mjs)';
  return undefined;
}

test('service: the service SDK creates, reads, updates, lists and deletes devices, queries and patches twins with etags, schedules a twin-update job and invokes methods', { timeout: 120_000 }, async (t) => {
  const reason = unreachable();
  if (reason) { t.skip(reason); return; }
  const hub = (await readFile(join(broker.dataDir, 'iothubowner.connectionstring'), 'utf8')).trim();
  const registry = Registry.fromConnectionString(hub);
  const id = deviceId('service');

  // Registry.create without keys sends empty ones: the hub generates them.
  const { responseBody: created } = await registry.create({ deviceId: id });
  assert.equal(created.deviceId, id);
  assert.ok(created.authentication.symmetricKey.primaryKey.length > 0, 'no primary key was generated');
  await assert.rejects(registry.create({ deviceId: id }), (error) => error.constructor.name === 'DeviceAlreadyExistsError');
  const { responseBody: fetched } = await registry.get(id);
  assert.equal(fetched.status, 'enabled');
  assert.equal(fetched.etag, created.etag);
  const { responseBody: updated } = await registry.update({ deviceId: id, status: 'enabled', statusReason: 'checked' });
  assert.equal(updated.statusReason, 'checked');
  assert.notEqual(updated.etag, created.etag);
  const { responseBody: statistics } = await registry.getRegistryStatistics();
  assert.ok(statistics.totalDeviceCount >= 1 && statistics.enabledDeviceCount >= 1, JSON.stringify(statistics));
  const { responseBody: listed } = await registry.list();
  assert.ok(listed.some((device) => device.deviceId === id), 'the device is not listed');

  const connectionString = `HostName=localhost;DeviceId=${id};SharedAccessKey=${created.authentication.symmetricKey.primaryKey}`;
  const device = await deviceClient(broker, connectionString, 'mqtt');
  await device.open();
  try {
    const deviceTwin = await device.getTwin();
    let timer;
    const desired = new Promise((resolve, reject) => {
      deviceTwin.on('properties.desired', (patch) => { if (patch.interval === 7) resolve(patch); });
      timer = setTimeout(() => reject(new Error('no desired patch with interval 7 within 30 s')), 30_000);
    }).finally(() => clearTimeout(timer));
    // A round trip on the device's connection after the listener subscribed: the hub has the subscription.
    await new Promise((resolve, reject) => deviceTwin.properties.reported.update({ ready: true }, (error) => (error ? reject(error) : resolve())));

    // The SDK's query pages until the hub stops sending x-ms-continuation.
    const query = registry.createQuery(`SELECT * FROM devices WHERE deviceId = '${id}' AND properties.reported.ready = true`, 10);
    const { result: found } = await query.nextAsTwin();
    assert.equal(found.length, 1);
    assert.equal(found[0].deviceId, id);
    assert.equal(query.hasMoreResults, false);

    const { responseBody: twin } = await registry.getTwin(id);
    assert.equal(twin.deviceId, id);
    assert.equal(twin.properties.reported.ready, true);
    await assert.rejects(registry.updateTwin(id, { tags: { site: 'b' } }, 'AAAAAAAAAAE='), (error) => error.constructor.name === 'InvalidEtagError');
    const { responseBody: patched } = await registry.updateTwin(id, { tags: { site: 'a' }, properties: { desired: { interval: 7 } } }, twin.etag);
    assert.equal(patched.tags.site, 'a');
    assert.equal((await desired).interval, 7);

    // A job: a twin update scheduled for now on the devices a query condition selects (here, this one).
    let jobTimer;
    const fromJob = new Promise((resolve, reject) => {
      deviceTwin.on('properties.desired', (patch) => { if (patch.fromJob === 9) resolve(patch); });
      jobTimer = setTimeout(() => reject(new Error('the job\'s desired patch did not arrive within 30 s')), 30_000);
    }).finally(() => clearTimeout(jobTimer));
    const jobs = JobClient.fromConnectionString(hub);
    const jobId = `job-${id}`;
    const { jobStatus: scheduled } = await jobs.scheduleTwinUpdate(jobId, `deviceId = '${id}'`, { etag: '*', properties: { desired: { fromJob: 9 } } }, new Date(), 600);
    assert.equal(scheduled.jobId, jobId);
    assert.equal((await fromJob).fromJob, 9);
    const { jobStatus: job } = await jobs.getJob(jobId);
    assert.equal(job.type, 'scheduleUpdateTwin');
    assert.ok(['running', 'completed'].includes(job.status), `job status ${job.status}`);
    await assert.rejects(jobs.getJob(`${jobId}-none`), (error) => error.constructor.name === 'JobNotFoundError' || error.response?.statusCode === 404);

    device.onDeviceMethod('reboot', (request, response) => { response.send(201, { rebooted: request.payload }).catch(() => {}); });
    const service = ServiceClient.fromConnectionString(hub);
    const { result } = await service.invokeDeviceMethod(id, { methodName: 'reboot', payload: { delay: 2 }, responseTimeoutInSeconds: 30, connectTimeoutInSeconds: 20 });
    assert.deepEqual(result, { status: 201, payload: { rebooted: { delay: 2 } } });
  } finally {
    await device.close();
  }

  await registry.delete(id);
  await assert.rejects(registry.get(id), (error) => error.constructor.name === 'DeviceNotFoundError');
});
