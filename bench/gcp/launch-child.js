// One `launch` in a fresh process, as `agentium run` would do it: loading the provider (and with
// it @google-cloud/compute) is part of the measured time. Prints one JSON line of timings.
// Usage: node bench/gcp/launch-child.js <computeUrl> <project> <zones,comma,separated>
import { performance } from 'node:perf_hooks';

const started = performance.now();
const [{ parseConfig }, { buildSessionSpec }, { loadProvider }] = await Promise.all([
  import('../../dist/src/config/schema.js'),
  import('../../dist/src/session/spec.js'),
  import('../../dist/src/providers/index.js'),
]);
const [url, project, zones] = process.argv.slice(2);
const config = parseConfig({
  provider: 'gcp',
  repo: 'acme/widgets',
  github: { appId: 12345, privateKeySecret: 'agentium-github-app-key' },
  gcp: { project, zones: zones.split(','), apiEndpoint: url },
});
const spec = buildSessionSpec(config, { provider: 'gcp', issue: 7, now: new Date(), nonce: `b${process.pid.toString(36)}` });
const beforeProvider = performance.now();
// Through the registry, exactly as the CLI loads it (http:// endpoint: no credentials sent).
const provider = await loadProvider('gcp', config);
const providerLoaded = performance.now();
const launched = await provider.launch({ spec, userData: '#cloud-config\n' });
const done = performance.now();
console.log(
  JSON.stringify({
    location: launched.location,
    providerLoadMs: Math.round(providerLoaded - beforeProvider),
    launchCallMs: Math.round(done - providerLoaded),
    totalMs: Math.round(done - started),
  }),
);
