/**
 * cloud-init user-data for a session VM, rendered from the session spec. It writes the
 * non-secret spec, turns off SSH and password logins, and starts the controller container from a
 * pinned image with the host network and the Docker socket (DESIGN §2: the controller is trusted,
 * the agent never gets the socket). It contains no secret: the controller reads secrets itself
 * with the VM identity. Every variant is checked by `cloud-init schema` in the tests.
 */
import { stringify } from 'yaml';
import type { SessionSpec } from '../src/session/spec.js';

export const sessionSpecPath = '/etc/agentium/session.json';
export const controllerStateDir = '/var/lib/agentium';
/** AWS's limit on raw user-data. */
export const userDataLimitBytes = 16 * 1024;

export function controllerRunCommand(spec: SessionSpec): string[] {
  return [
    'docker',
    'run',
    '--name',
    'agentium-controller',
    '--rm',
    '--network',
    'host',
    // The controller installs the agent network's firewall rules in the host's netfilter tables.
    '--cap-add',
    'NET_ADMIN',
    '--volume',
    '/var/run/docker.sock:/var/run/docker.sock',
    '--volume',
    '/etc/agentium:/etc/agentium:ro',
    '--volume',
    `${controllerStateDir}:${controllerStateDir}`,
    '--env',
    `AGENTIUM_SESSION_FILE=${sessionSpecPath}`,
    spec.controller.image,
    'agentium-controller',
  ];
}

export function renderUserData(spec: SessionSpec): string {
  const lifetimeMinutes = Math.ceil(spec.lifetimeSeconds / 60);
  const bootcmd: string[][] = [
    // No interactive access at all: the VM is cattle, and its logs leave through the redactor.
    ['sh', '-c', 'systemctl stop sshd.service ssh.service 2>/dev/null; systemctl mask sshd.service ssh.service 2>/dev/null; true'],
  ];
  const runcmd: string[][] = [['mkdir', '-p', controllerStateDir], controllerRunCommand(spec)];
  if (spec.provider === 'aws') {
    // AWS has no run-duration cap: power off at the deadline, and again when the controller
    // exits; InstanceInitiatedShutdownBehavior=terminate turns both into termination.
    bootcmd.push(['shutdown', '-P', `+${lifetimeMinutes}`]);
    // The ECS-optimized AMI starts the ECS agent; this VM joins no cluster, so keep it off.
    bootcmd.push(['sh', '-c', 'systemctl disable --now --no-block ecs.service 2>/dev/null; true']);
    runcmd.push(['shutdown', '-P', 'now']);
  }
  // On GCP, scheduling.maxRunDuration with instanceTerminationAction=DELETE is the cap; a guest
  // power-off would only stop (not delete) the VM, so the controller deletes it instead.
  const config = {
    ssh_pwauth: false,
    disable_root: true,
    ssh_deletekeys: true,
    write_files: [
      {
        path: sessionSpecPath,
        owner: 'root:root',
        permissions: '0644',
        content: `${JSON.stringify(spec, null, 2)}\n`,
      },
    ],
    bootcmd,
    runcmd,
  };
  const header = `#cloud-config\n# Agentium session ${spec.id} (${spec.repo.fullName}#${spec.issue}). Generated; holds no secrets.\n`;
  return header + stringify(config, { lineWidth: 0 });
}
