import assert from 'node:assert/strict';

/** Just enough MIME to read what nodemailer writes: headers, and the text and HTML parts decoded. */
export interface ParsedMail {
    headers: Map<string, string>;
    subject: string;
    text: string;
    html: string;
}

function splitHead(raw: string): [string, string] {
    const at = raw.search(/\r?\n\r?\n/);
    return at < 0 ? [raw, ''] : [raw.slice(0, at), raw.slice(at).replace(/^\r?\n\r?\n/, '')];
}

function headersOf(head: string): Map<string, string> {
    const headers = new Map<string, string>();
    for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return headers;
}

function decodeQuotedPrintable(text: string): string {
    const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => `%${hex}`);
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
}

/** RFC 2047 encoded words, as in Subject. */
export function decodeWords(value: string): string {
    return value
        .replace(/\?=\s+=\?/g, '?==?')
        .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _charset: string, kind: string, data: string) =>
            kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
        );
}

function decodeBody(body: string, encoding: string | undefined): string {
    if (encoding?.toLowerCase() === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (encoding?.toLowerCase() === 'quoted-printable') return decodeQuotedPrintable(body);
    return body;
}

export function parseMail(raw: string): ParsedMail {
    const [head, body] = splitHead(raw);
    const headers = headersOf(head);
    const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
    const parts = boundary ? body.split(`--${boundary}`).slice(1, -1) : [`${head}\r\n\r\n${body}`];
    let text = '';
    let html = '';
    for (const part of parts) {
        const [partHead, partBody] = splitHead(part.replace(/^\r?\n/, ''));
        const partHeaders = headersOf(partHead);
        const decoded = decodeBody(partBody.replace(/\r?\n$/, ''), partHeaders.get('content-transfer-encoding'));
        if ((partHeaders.get('content-type') ?? '').startsWith('text/html')) html = decoded;
        else if ((partHeaders.get('content-type') ?? '').startsWith('text/plain')) text = decoded;
    }
    return { headers, subject: decodeWords(headers.get('subject') ?? ''), text, html };
}

/** The lead ids a digest lists; fails when there is no such mail. */
export function leadIdsIn(mail: ParsedMail | undefined): string[] {
    assert.ok(mail, 'there is no such mail');
    return [...mail.text.matchAll(/Lead id: ([0-9a-f]{32})/g)].map((m) => m[1] ?? '');
}
