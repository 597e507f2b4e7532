/**
 * Why a request is refused as coming from another site, or undefined when it does not: a form or a
 * script on another web page must not act through a browser that can reach this app. Browsers say
 * where a request comes from in Sec-Fetch-Site and Origin; servers (the marketplace, curl) send
 * neither, and are not refused.
 */
export function crossSiteReason(header: (name: string) => string | null | undefined, requestUrl: string): string | undefined {
    const site = header('sec-fetch-site');
    if (site && !['same-origin', 'none'].includes(site)) return `The request came from another site (Sec-Fetch-Site: ${JSON.stringify(site)}).`;
    const origin = header('origin');
    if (origin && origin !== new URL(requestUrl).origin) return 'The request came from another origin.';
    return undefined;
}

/**
 * Why a request is refused as coming from a web page at all, or undefined: for an endpoint only
 * servers call. A browser names the page (Origin, Sec-Fetch-Site) even on a same-origin request,
 * which is what a page that rebound its own name to this machine makes.
 */
export function webPageReason(header: (name: string) => string | null | undefined): string | undefined {
    const site = header('sec-fetch-site');
    if (site && site !== 'none') return `The request came from a web page (Sec-Fetch-Site: ${JSON.stringify(site)}).`;
    if (header('origin')) return 'The request came from a web page (it has an Origin).';
    return undefined;
}
