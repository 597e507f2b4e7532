import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Settings } from '../config/settings';
import { HeaderError } from '../import/columns';
import { importLeads, type ImportSummary } from '../import/importLeads';
import { importSummaryLines } from '../import/summaryLines';
import { ConsoleRequestError } from './consoleRequestError';
import { renderMessagePage } from './render';

type Json = (status: number, value: unknown) => HttpResponseInit;
type Html = (status: number, body: string) => HttpResponseInit;

/** The CSV of the upload: the file field of the page's form, or a body sent as text/csv. */
async function uploaded(request: HttpRequest): Promise<{ csv: AsyncIterable<Uint8Array>; dryRun: boolean }> {
    const type = request.headers.get('content-type') ?? '';
    const query = new URL(request.url).searchParams;
    if (/^multipart\/form-data/i.test(type)) {
        let form: FormData;
        try {
            form = await request.formData();
        } catch {
            throw new ConsoleRequestError('The body is not a valid multipart/form-data form: send the CSV file in a field named "file".');
        }
        const file = form.get('file');
        if (file === null || typeof file === 'string') throw new ConsoleRequestError('The form has no file: choose a CSV file to import.');
        const field = form.get('dryRun');
        return { csv: file.stream() as unknown as AsyncIterable<Uint8Array>, dryRun: dryRunOf(query.get('dryRun')) || dryRunOf(typeof field === 'string' ? field : null) };
    }
    if (!/^text\/csv|^text\/plain|^application\/octet-stream/i.test(type)) throw new ConsoleRequestError(`The body is "${type || 'untyped'}": send the CSV file as multipart/form-data (field "file") or as text/csv.`);
    if (!request.body) throw new ConsoleRequestError('The body is empty: send a CSV file.');
    return { csv: request.body as unknown as AsyncIterable<Uint8Array>, dryRun: dryRunOf(query.get('dryRun')) };
}

/** `dryRun`: true, 1 or on (a checkbox) is a dry run; false, 0 or nothing is none; anything else is a mistake, not a real import. */
function dryRunOf(value: string | null): boolean {
    if (value === null || ['', 'false', '0', 'off'].includes(value.toLowerCase())) return false;
    if (['true', '1', 'on'].includes(value.toLowerCase())) return true;
    throw new ConsoleRequestError(`dryRun is "${value.slice(0, 20)}": use true or false.`);
}

/** POST /api/console/import: the same import as `npm run leads -- import`, for a file uploaded from the page. */
export async function importUpload(request: HttpRequest, s: Settings, json: Json, html: Html): Promise<HttpResponseInit> {
    const { csv, dryRun } = await uploaded(request);
    let summary: ImportSummary;
    try {
        summary = await importLeads(csv, { settings: s, dryRun });
    } catch (error) {
        if (error instanceof HeaderError) throw new ConsoleRequestError(error.message);
        throw error;
    }
    const text = importSummaryLines(summary).join('\n');
    if (/application\/json/i.test(request.headers.get('accept') ?? '')) return json(200, { ...summary, text });
    return html(200, renderMessagePage(dryRun ? 'Import (dry run)' : 'Import', text));
}
