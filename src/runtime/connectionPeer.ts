/**
 * Who opened the connection a request came on, as the local host saw its socket: this machine
 * (loopback) or another one. The local host records it for each request it hands a function; the
 * Functions host in Azure and Core Tools say nothing, so there it is undefined. It travels beside
 * the request, never in a header, so no client can claim it. The registry is global so that the
 * host and the app share it even when each loaded its own copy of this module.
 */
export type ConnectionPeer = 'loopback' | 'network';

const registryKey = Symbol.for('marketplace-leads.connectionPeer');

function registry(): WeakMap<object, ConnectionPeer> {
    const holder = globalThis as { [registryKey]?: WeakMap<object, ConnectionPeer> };
    return (holder[registryKey] ??= new WeakMap());
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses (a dual-stack socket's view of 127.0.0.1). */
export function isLoopbackAddress(address: string | undefined): boolean {
    const text = (address ?? '').toLowerCase();
    return text === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(text);
}

/** Records the remote address of the connection `request` came on. */
export function recordConnectionPeer(request: object, remoteAddress: string | undefined): void {
    registry().set(request, isLoopbackAddress(remoteAddress) ? 'loopback' : 'network');
}

/** Where the request came from, if the host that served it said so. */
export function connectionPeerOf(request: object): ConnectionPeer | undefined {
    return registry().get(request);
}

/** The names a request for this machine may use. */
export const loopbackNames: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Headers a proxy or a tunnel adds when it relays a request (nginx, ngrok, VS Code and Envoy among
 * them): with one, the connection's address is the relay's, not the client's.
 */
const relayHeaders = ['forwarded', 'via', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'x-envoy-external-address'];

/**
 * Why a request the local host served did not come from a person on this machine, or undefined
 * when it did: the connection is from this machine, nothing relayed it, and it names this machine
 * (a web page that rebound its own name to 127.0.0.1 names itself).
 */
export function notFromThisMachine(peer: ConnectionPeer | undefined, hostname: string, header: (name: string) => string | null | undefined): string | undefined {
    if (peer === undefined) return 'the host that served it does not say who connected';
    if (peer !== 'loopback') return 'it came from another machine';
    const relay = relayHeaders.find((name) => header(name));
    if (relay) return `a proxy or tunnel relayed it (${relay})`;
    if (!loopbackNames.includes(hostname.toLowerCase())) return `it was for ${JSON.stringify(hostname)}, not localhost`;
    return undefined;
}
