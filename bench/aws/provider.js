// AWS provider benchmarks (DESIGN §6), against the EC2 fake with the real SDK:
// 1. `destroy --all` over 200 instances with 100 ms latency per call, vs terminating the same
//    instances serially, one TerminateInstances call each (budget: ≥ 10× faster);
// 2. `launch` wall time in a fresh process, SDK import included (fake: no boot delay).
// Usage: npx tsc -p tsconfig.build.json && node bench/aws/provider.js [instances] [latencyMs]
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { parseConfig } from '../../dist/src/config/schema.js';
import { createAwsProvider } from '../../dist/src/providers/aws/provider.js';
import { loadEc2Fake } from '../support/load-fakes.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
const instances = Number(process.argv[2] ?? 200);
const latencyMs = Number(process.argv[3] ?? 100);
const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' };
const { startEc2Fake } = await loadEc2Fake();

async function withSeededFake(run) {
  const fake = await startEc2Fake({ latencyMs, subnets: { 'subnet-0aaa': 'us-east-1a' } });
  for (let n = 0; n < instances; n++) fake.seed({ tags: { 'agentium-managed': 'true', 'agentium-session': `agentium-1-bench${n}` } });
  fake.seed({ tags: { Name: 'not-ours' } });
  try {
    const started = performance.now();
    await run(fake);
    const ms = performance.now() - started;
    const left = [...fake.instances.values()].filter((i) => i.tags.get('agentium-managed') === 'true' && fake.stateOf(i.id) === 'running');
    const untouched = [...fake.instances.values()].filter((i) => i.tags.get('Name') === 'not-ours' && fake.stateOf(i.id) === 'running');
    if (left.length !== 0 || untouched.length !== 1) throw new Error(`wrong result: ${left.length} managed left, unmanaged intact: ${untouched.length}`);
    return { ms, calls: fake.calls.length };
  } finally {
    await fake.close();
  }
}

const config = (endpoint) =>
  parseConfig({
    provider: 'aws',
    repo: 'acme/widgets',
    github: { appId: 12345, privateKeySecret: 'agentium/github-app-key' },
    aws: { region: 'us-east-1', endpoint },
  });

// Warm-up: the SDK loads parts of itself on the first call; don't charge that to either side.
{
  const fake = await startEc2Fake({});
  const aws = await createAwsProvider(config(fake.url), { credentials });
  await aws.list();
  await fake.close();
}

const provider = await withSeededFake(async (fake) => {
  const aws = await createAwsProvider(config(fake.url), { credentials });
  const results = await aws.destroy('all');
  if (results.some((r) => r.outcome !== 'deleted')) throw new Error('destroy reported failures');
});

const unbatched = await withSeededFake(async (fake) => {
  const aws = await createAwsProvider(config(fake.url), { credentials, terminateBatchSize: 1 });
  await aws.destroy('all', { concurrency: 8 });
});

const serial = await withSeededFake(async (fake) => {
  const client = new EC2Client({ region: 'us-east-1', endpoint: fake.url, credentials });
  const ids = [];
  let NextToken;
  do {
    const page = await client.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:agentium-managed', Values: ['true'] }], MaxResults: 1000, NextToken }),
    );
    for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) ids.push(i.InstanceId);
    NextToken = page.NextToken;
  } while (NextToken);
  for (const id of ids) await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  client.destroy();
});

// Launch, each in a fresh process so SDK import is counted.
const launchFake = await startEc2Fake({ subnets: { 'subnet-0aaa': 'us-east-1a' }, securityGroups: [{ id: 'sg-0be4c4' }] });
const child = fileURLToPath(new URL('./launch-child.js', import.meta.url));
const launches = [];
for (let n = 0; n < 7; n++) {
  // Asynchronous on purpose: the fake runs in this process and must keep answering.
  const { stdout } = await promisify(execFile)(process.execPath, [child, launchFake.url], {
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  launches.push(JSON.parse(stdout.trim().split('\n').at(-1)));
}
await launchFake.close();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const speedup = serial.ms / provider.ms;
console.log(`Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}; ${instances} managed instances + 1 unmanaged; ${latencyMs} ms latency per EC2 call`);
console.log('| destroy --all | wall ms | EC2 calls | vs serial |');
console.log('|---|---|---|---|');
console.log(`| provider (batches of 50, 8 in flight) | ${provider.ms.toFixed(0)} | ${provider.calls} | ${speedup.toFixed(1)}× |`);
console.log(`| provider, batch size 1 (8 in flight) | ${unbatched.ms.toFixed(0)} | ${unbatched.calls} | ${(serial.ms / unbatched.ms).toFixed(1)}× |`);
console.log(`| serial, one TerminateInstances per instance | ${serial.ms.toFixed(0)} | ${serial.calls} | 1× |`);
console.log('');
console.log('| launch in a fresh process (median of 7) | ms |');
console.log('|---|---|');
console.log(`| process start → instance running | ${median(launches.map((l) => l.totalMs)).toFixed(0)} |`);
console.log(`| of which createAwsProvider (SDK import) | ${median(launches.map((l) => l.sdkImportMs)).toFixed(0)} |`);
console.log(`| of which launch() (DescribeSecurityGroups + RunInstances + waiter) | ${median(launches.map((l) => l.launchCallMs)).toFixed(0)} |`);
const ok = speedup >= 10;
console.log(`\ndestroy --all budget ≥ 10× serial: ${ok ? 'met' : 'MISSED'} (${speedup.toFixed(1)}×)`);
process.exitCode = ok ? 0 : 1;
