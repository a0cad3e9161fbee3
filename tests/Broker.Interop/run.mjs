// Runs every scenario in scenarios/ against one broker child process, with node:test, bounded in time.
// Prints the spec report, then as its last line "N passed, M failed[, K skipped]"; exits non-zero if any failed.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';
import { startBroker } from './lib/broker.mjs';
import { brokerEnvironment } from './lib/shared.mjs';

const OVERALL_MS = 5 * 60_000; // the whole suite
const TEST_MS = 2 * 60_000; // any one test or hook that sets no timeout of its own

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2); // optional scenario names, e.g. `node run.mjs c2d twin`
const files = readdirSync(join(here, 'scenarios'))
  .filter((name) => name.endsWith('.test.mjs') && (only.length === 0 || only.includes(name.replace(/\.test\.mjs$/, ''))))
  .sort()
  .map((name) => join(here, 'scenarios', name));

const counts = { passed: 0, failed: 0, skipped: 0 };
const started = Date.now();
let broker;

function summary() {
  const line = `${counts.passed} passed, ${counts.failed} failed`;
  return counts.skipped > 0 ? `${line}, ${counts.skipped} skipped` : line;
}

// A last resort if something below hangs beyond every bound it has: report what is known and leave.
const deadline = setTimeout(() => {
  console.error(`interop: the suite did not finish within ${OVERALL_MS / 1000} s`);
  counts.failed += 1;
  console.log(summary());
  process.exit(1);
}, OVERALL_MS + 60_000);
deadline.unref();

try {
  broker = await startBroker();
  const amqps = broker.amqpsPort ? `amqps://localhost:${broker.amqpsPort}` : 'no AMQPS (not built)';
  const wss = broker.httpsPort ? `wss://localhost:${broker.httpsPort}/$iothub/websocket` : `no WebSockets (${broker.httpsUnavailable})`;
  console.log(`interop: broker ${broker.dll} on mqtts://localhost:${broker.mqttsPort}, ${amqps}, ${wss}, management ${broker.server}`);
  Object.assign(process.env, brokerEnvironment(broker)); // inherited by the scenario processes

  const abort = AbortSignal.timeout(OVERALL_MS);
  const stream = run({ files, concurrency: 1, timeout: TEST_MS, signal: abort });
  // Count tests, not the per-file wrappers (a file's own failure, e.g. in a hook, is counted once as a failure).
  stream.on('test:pass', (data) => {
    if (data.details?.type === 'suite' || isFile(data)) return;
    if (data.skip || data.todo) counts.skipped += 1;
    else counts.passed += 1;
  });
  stream.on('test:fail', (data) => {
    if (data.details?.type === 'suite') return;
    if (isFile(data) && !fileFailedOnItsOwn(data)) return;
    counts.failed += 1;
  });
  const report = stream.compose(spec);
  for await (const chunk of report) process.stdout.write(chunk);
  if (abort.aborted) {
    console.error(`interop: the suite was stopped at its ${OVERALL_MS / 1000} s limit`);
    if (counts.failed === 0) counts.failed = 1;
  }
} catch (error) {
  console.error(`interop: ${error.stack ?? error}`);
  counts.failed += 1;
} finally {
  if (broker && (counts.failed > 0 || process.env.INTEROP_SHOW_BROKER_LOG)) {
    console.error(`--- last lines of the broker's log ---\n${broker.recentLog()}\n---`);
  }
  await broker?.stop();
}

console.log(`interop: ${((Date.now() - started) / 1000).toFixed(1)} s`);
clearTimeout(deadline);
console.log(summary());
process.exitCode = counts.failed > 0 || counts.passed === 0 ? 1 : 0;

// node:test reports each file as a test named by its path at nesting 0, its tests at nesting 0 or 1 depending on the
// Node version; files are told apart by their name.
function isFile(data) {
  return files.includes(data.name) || files.includes(data.file) && data.name === data.file;
}

function fileFailedOnItsOwn(data) {
  // A file fails on its own when it could not run its tests (syntax error, a failing before hook, a crash).
  return data.details?.error?.failureType !== 'subtestsFailed';
}
