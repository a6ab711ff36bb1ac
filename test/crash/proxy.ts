// A TCP forwarder on a port the OS picks, for storage outages: the host's connection string names the forwarder, so
// Azurite can be stopped and started again on new (OS-chosen) ports while the host keeps the address it knows; it can
// also hold requests up (a slow network) and cut storage off exactly when a given request is on its way.
import net from 'node:net';

export interface Forwarder {
  port: number;
  /** Forward new connections to 127.0.0.1:`port`, or refuse them (reset) when undefined; open ones are cut. */
  retarget(port: number | undefined): void;
  /**
   * Calls `then` (once) when a client sends `pattern` (UTF-8 bytes in one chunk), after cutting that connection before
   * the chunk reaches the target: an outage that begins exactly while that request is on its way.
   */
  cutWhen(pattern: string, then: () => void): void;
  /** Cuts the open connections and holds what clients send on new ones (nothing reaches the target) until release(). */
  hold(): void;
  /** New connections pass again; those held so far stay held. */
  passNew(): void;
  /** Sends what the held connections buffered (those whose client has not gone) and lets them pass. */
  release(): void;
  close(): Promise<void>;
}

/**
 * Starts a forwarder to 127.0.0.1:`port`.
 * @example const table = await forward(azurite.ports.table); table.retarget(undefined); // storage is down
 */
export async function forward(port: number | undefined): Promise<Forwarder> {
  let target = port;
  let trigger: { pattern: Buffer; then: () => void } | undefined;
  let holding = false;
  const open = new Set<net.Socket>();
  const held = new Set<{ chunks: Buffer[] | undefined; upstream: net.Socket }>();
  const server = net.createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    if (target === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    open.add(upstream);
    upstream.once('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.resetAndDestroy());
    client.once('close', () => upstream.destroy());
    const hold = { chunks: holding ? ([] as Buffer[]) : undefined, upstream };
    if (hold.chunks) held.add(hold);
    client.once('close', () => held.delete(hold));
    client.on('data', (chunk: Buffer) => {
      if (hold.chunks) {
        hold.chunks.push(chunk);
        return;
      }
      if (trigger && chunk.includes(trigger.pattern)) {
        const then = trigger.then;
        trigger = undefined;
        client.resetAndDestroy();
        upstream.destroy();
        then();
        return;
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    client.once('end', () => upstream.end());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    retarget(next) {
      target = next;
      for (const s of open) s.resetAndDestroy();
    },
    cutWhen(pattern, then) {
      trigger = { pattern: Buffer.from(pattern), then };
    },
    hold() {
      holding = true;
      for (const s of open) s.resetAndDestroy();
    },
    passNew() {
      holding = false;
    },
    release() {
      holding = false;
      for (const h of held) {
        for (const chunk of h.chunks ?? []) h.upstream.write(chunk);
        h.chunks = undefined;
      }
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
