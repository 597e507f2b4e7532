import { IntakeError } from './intakeError';

export type BodyKind = 'json' | 'form';

export interface RequestLike {
    headers: { get(name: string): string | null };
    body: ReadableStream<Uint8Array> | null;
    arrayBuffer(): Promise<ArrayBuffer>;
}

const jsonTypes = /^(application\/json|text\/json|application\/[a-z0-9.+-]+\+json)$/;
const formType = 'application/x-www-form-urlencoded';

/** The body's kind and charset from Content-Type; 415 for anything but JSON or a form. */
export function bodyKindOf(contentType: string | null): { kind: BodyKind; charset: string } {
    const [mediaType = '', ...parameters] = (contentType ?? '').split(';');
    const type = mediaType.trim().toLowerCase();
    const kind: BodyKind | undefined = jsonTypes.test(type) ? 'json' : type === formType ? 'form' : undefined;
    if (!kind) {
        const got = type ? `"${type}"` : 'no Content-Type';
        throw new IntakeError(415, `Send the lead as application/json or ${formType}; got ${got}.`);
    }
    const charsetParameter = parameters.map((p) => p.trim().split('=')).find(([name]) => name?.trim().toLowerCase() === 'charset');
    const charset = (charsetParameter?.[1] ?? 'utf-8').trim().replace(/^"|"$/g, '').toLowerCase();
    return { kind, charset };
}

/** Reads at most `limit` bytes: a larger body is refused from its Content-Length, or as soon as it passes the limit. */
export async function readLimitedBody(request: RequestLike, limit: number): Promise<Uint8Array> {
    const tooLarge = () => new IntakeError(413, `The body is larger than ${limit} bytes.`);
    const length = request.headers.get('content-length');
    const declared = Number(length ?? '0');
    if (declared > limit) throw tooLarge();
    if (!request.body) return new Uint8Array(0);
    // A declared length within the limit is read in one go; only a chunked body is counted as it streams.
    if (length !== null && !request.headers.get('transfer-encoding')) return new Uint8Array(await request.arrayBuffer());
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of request.body) {
        size += chunk.byteLength;
        if (size > limit) throw tooLarge();
        chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
}

/** Decodes the body in its charset; a UTF-8 byte-order mark is dropped. */
export function decodeBody(bytes: Uint8Array, charset: string): string {
    let decoder: InstanceType<typeof TextDecoder>;
    try {
        decoder = new TextDecoder(charset, { fatal: true });
    } catch {
        throw new IntakeError(415, `The charset "${charset}" is not supported; send UTF-8.`);
    }
    try {
        return decoder.decode(bytes);
    } catch {
        throw new IntakeError(400, `The body is not valid ${charset} text.`);
    }
}
