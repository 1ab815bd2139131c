// One `launch` in a fresh process, timed from process start: module loading, SDK import,
// DescribeSecurityGroups, RunInstances and the waiter against the EC2 fake. Prints one JSON line.
// Usage (by bench/aws/provider.js): node bench/aws/launch-child.js <fake url>
import { performance } from 'node:perf_hooks';

const endpoint = process.argv[2];
const { parseConfig } = await import('../../dist/src/config/schema.js');
const { buildSessionSpec } = await import('../../dist/src/session/spec.js');
const { createAwsProvider } = await import('../../dist/src/providers/aws/provider.js');

const config = parseConfig({
  provider: 'aws',
  repo: 'acme/widgets',
  github: { appId: 12345, privateKeySecret: 'agentium/github-app-key' },
  aws: { region: 'us-east-1', subnetIds: ['subnet-0aaa'], securityGroupIds: ['sg-0be4c4'], endpoint },
});
const spec = buildSessionSpec(config, { provider: 'aws', issue: 1, now: new Date(), nonce: `b${process.pid}` });
const beforeSdk = performance.now();
const provider = await createAwsProvider(config, {
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
  waiter: { minDelaySeconds: 0.05, maxDelaySeconds: 0.2, maxWaitSeconds: 30 },
});
const afterSdk = performance.now();
const launched = await provider.launch({ spec, userData: '#cloud-config\n' });
const done = performance.now();
console.log(JSON.stringify({ totalMs: done, sdkImportMs: afterSdk - beforeSdk, launchCallMs: done - afterSdk, instance: launched.instance }));
// Keep-alive sockets to the fake would hold the process open; the measurement is done.
process.exit(0);
