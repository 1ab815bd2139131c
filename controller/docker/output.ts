/**
 * The attach stream of a container without a TTY multiplexes stdout and stderr in frames:
 * an 8-byte header (stream type, 3 zero bytes, big-endian payload length) then the payload.
 * Frames arrive split across socket reads at any byte, so the parser keeps what it has not used.
 */
export type AgentStream = 'stdout' | 'stderr';

const streamOfType: Record<number, AgentStream | undefined> = { 1: 'stdout', 2: 'stderr' };

export function createFrameDemuxer(onFrame: (stream: AgentStream, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      // stdin echo (type 0) cannot happen: stdin is never attached. Anything unknown counts as stderr.
      const stream = streamOfType[pending[0] ?? 0] ?? 'stderr';
      if (size > 0) onFrame(stream, pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  };
}
