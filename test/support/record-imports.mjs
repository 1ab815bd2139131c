// Loaded with `node --import`: records every module URL the process resolves, so a test can
// prove which packages a command pulled in (e.g. that `--help` never loads a cloud SDK).
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { appendFileSync } from 'node:fs';

const logFile = process.env.RECORD_IMPORTS_LOG;
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => appendFileSync(logFile, `${url}\n`));
port1.unref();
register(
  `data:text/javascript,${encodeURIComponent(`
    let port;
    export function initialize(data) { port = data.port; }
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      port.postMessage(result.url);
      return result;
    }`)}`,
  { data: { port: port2 }, transferList: [port2] },
);
