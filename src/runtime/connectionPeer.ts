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
