import { CsvError, parse, type Info } from 'csv-parse';

/** One record of a CSV file: `row` 0 is the header, 1 the first data row; `line` is where it starts. */
export interface CsvRecord {
    cells: string[];
    row: number;
    line: number;
}

/** The file is not CSV past a point: the records before it were read. */
export class CsvSyntaxError extends Error {
    constructor(
        readonly line: number,
        message: string,
    ) {
        super(message);
        this.name = 'CsvSyntaxError';
    }
}

const lineBreaks = /\r\n|\r|\n/g;

function describe(error: unknown, row: number, line: number): CsvSyntaxError {
    const where = row === 0 ? `the header (line ${line})` : `row ${row} (starting on line ${line})`;
    if (!(error instanceof CsvError)) return new CsvSyntaxError(line, `The file cannot be read past ${where}: ${error instanceof Error ? error.message : String(error)}`);
    const reason =
        error.code === 'CSV_QUOTE_NOT_CLOSED'
            ? 'a quoted cell is never closed'
            : error.code === 'CSV_INVALID_CLOSING_QUOTE' || error.code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE'
              ? 'a quoted cell has text after its closing quote'
              : error.code === 'INVALID_OPENING_QUOTE'
                ? 'a cell has a quote inside it without being quoted itself'
                : `csv-parse reports ${error.code}`;
    return new CsvSyntaxError(line, `The file is not valid CSV at ${where}: ${reason}. The rows before it were read.`);
}

/** The file is not text in the encoding it starts with: its bytes past a point are no UTF-8 (or UTF-16) at all. */
class EncodingError extends Error {}

/**
 * The text of the input, decoded as it streams: UTF-16 when it starts with a UTF-16 byte-order
 * mark, else UTF-8, strictly. A Windows-1252 file (Excel's "CSV (Comma delimited)") is refused
 * rather than read with replacement characters, which would deliver mangled names.
 */
async function* decoded(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
    let decoder: InstanceType<typeof TextDecoder> | undefined;
    for await (const chunk of input) {
        if (typeof chunk === 'string') {
            yield chunk;
            continue;
        }
        decoder ??= new TextDecoder(chunk[0] === 0xff && chunk[1] === 0xfe ? 'utf-16le' : chunk[0] === 0xfe && chunk[1] === 0xff ? 'utf-16be' : 'utf-8', { fatal: true });
        try {
            yield decoder.decode(chunk, { stream: true });
        } catch {
            throw new EncodingError();
        }
    }
    try {
        if (decoder) yield decoder.decode();
    } catch {
        throw new EncodingError();
    }
}

/**
 * Reads CSV as it streams in, a chunk at a time: a UTF-8 byte-order mark is dropped, LF, CRLF and
 * CR line ends are all fine, blank lines are skipped, and rows may have any number of cells (the
 * caller decides). A syntax error is thrown as CsvSyntaxError after every record before it.
 */
export async function* csvRecords(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<CsvRecord, void, undefined> {
    const parsed: { cells: string[]; emptyLines: number }[] = [];
    // Records are taken as they are parsed, not from the stream's buffer, which a syntax error would discard.
    const parser = parse({
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
        on_record: (cells: string[], info: Info) => {
            parsed.push({ cells, emptyLines: info.empty_lines });
            return undefined;
        },
    });
    let failure: unknown;
    parser.on('error', (error: unknown) => (failure ??= error));
    parser.resume();
    const ended = new Promise<void>((resolve) => parser.once('close', resolve).once('end', resolve));
    let row = 0;
    let nextLine = 1;
    let emptyLines = 0;
    function* taken(): Generator<CsvRecord> {
        for (const record of parsed.splice(0)) {
            const line = nextLine + record.emptyLines - emptyLines;
            emptyLines = record.emptyLines;
            // The parser counts the CRLF in a quoted cell twice: count the lines of its cells instead.
            nextLine = line + 1 + record.cells.reduce((sum, cell) => sum + (cell.match(lineBreaks)?.length ?? 0), 0);
            yield { cells: record.cells, row: row++, line };
        }
    }
    try {
        try {
            for await (const chunk of decoded(input)) {
                await new Promise<void>((resolve) => parser.write(chunk, () => resolve()));
                yield* taken();
                if (failure !== undefined) throw describe(failure, row, nextLine);
            }
        } catch (error) {
            if (!(error instanceof EncodingError)) throw error;
            yield* taken();
            const where = row === 0 ? 'the header' : `row ${row} (around line ${nextLine})`;
            throw new CsvSyntaxError(nextLine, `The file is not UTF-8 text from ${where} on: save it as "CSV UTF-8" (in Excel: Save As → CSV UTF-8). The rows before it were read.`);
        }
        parser.end();
        await ended;
        yield* taken();
        if (failure !== undefined) throw describe(failure, row, nextLine);
    } finally {
        parser.destroy();
    }
}
