// Drives the service side through the broker's own CLI (`dotnet broker.dll <command> --data <dir> --server <url>`),
// as an operator would. Every call is bounded; JSON output is parsed.
import { execFile } from 'node:child_process';

/**
 * Runs one CLI command against `broker` and resolves with its exit code and output (never rejects on a non-zero exit).
 * @param {import('./broker.mjs').Broker} broker
 * @param {string[]} args e.g. ['device', 'create', 'dev1']
 */
export function cli(broker, args, { timeoutMs = 60_000 } = {}) {
  const argv = [broker.dll, ...args, '--data', broker.dataDir, '--server', broker.server];
  const env = { ...process.env };
  delete env.BROKER_CONNECTION_STRING; // the credentials come from --data, as on the broker's own machine
  return new Promise((resolve, reject) => {
    execFile('dotnet', argv, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        // Not an exit code: the process could not start, or it was killed at the time limit.
        reject(new Error(`broker ${args.join(' ')}: ${error.killed ? `no exit within ${timeoutMs} ms` : error.message}\n${stderr}`));
        return;
      }
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** Runs a CLI command that must succeed; resolves with its standard output. */
export async function cliOk(broker, args, options) {
  const result = await cli(broker, args, options);
  if (result.code !== 0) {
    throw new Error(`broker ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Runs a CLI command that must succeed and prints one JSON document; resolves with it parsed. */
export async function cliJson(broker, args, options) {
  const stdout = await cliOk(broker, args, options);
  try {
    return JSON.parse(stdout);
  } catch (error) {
    throw new Error(`broker ${args.join(' ')} printed no JSON document (${error.message}):\n${stdout}`);
  }
}

/** Runs a CLI command that must succeed and prints JSON Lines (e.g. `monitor`); resolves with the parsed lines. */
export async function cliJsonLines(broker, args, options) {
  const stdout = await cliOk(broker, args, options);
  return stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}
