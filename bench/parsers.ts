import { parseLeadQuery } from '../src/console/leadQuery';
import { csvRecords } from '../src/import/csvRecords';
import { maxFields, parseLead } from '../src/intake/parseLead';
import { parseCampaign } from '../src/lead/campaign';
import { median, round } from './stats';

/** Every input is this size: the intake's body limit. */
const size = 64 * 1024;

/** Text of exactly `size` characters: `unit` repeated, after `head`. */
function filled(head: string, unit: string): string {
    return (head + unit.repeat(Math.ceil(size / unit.length))).slice(0, size);
}

/** `maxFields - 1` fields after `head`, their values sharing the rest of the size equally. */
function manyFields(field: (i: number, room: number) => string, head: string, reserve = 1): string {
    const count = maxFields - 1;
    const room = Math.floor((size - reserve - head.length) / count) - field(count, 0).length;
    return head + Array.from({ length: count }, (_, i) => field(i, room)).join('');
}

const receipt = { receivedAt: new Date('2026-12-01T00:00:00Z'), receiptId: 'bench' };

/** Runs a parser and swallows the error a bad input is meant to get: the work is what is measured. */
function attempt(parse: () => unknown): void {
    try {
        parse();
    } catch {
        // A refusal is the parser's answer to a bad input.
    }
}

// eslint-disable-next-line @typescript-eslint/require-await -- an async iterable, as an upload arrives
async function* chunksOf(text: string): AsyncGenerator<string> {
    yield text;
}

/** Reads every record of a CSV text, as an upload is read; returns how many cells it held. */
async function drainCsv(text: string): Promise<number> {
    let cells = 0;
    try {
        for await (const record of csvRecords(chunksOf(text))) cells += record.cells.length;
    } catch {
        // As above.
    }
    return cells;
}

interface ParserCase {
    name: string;
    /** A 64 KiB input of the kind the parser is made for. */
    plain: string;
    /** The slowest 64 KiB inputs known for it: the slowest of them is the one reported. */
    worst: Record<string, string>;
    run: (input: string) => Promise<void> | void;
}

const cases: ParserCase[] = [
    {
        name: 'form',
        plain: filled('lead_source=AzureMarketplace-contoso&description=', 'x'),
        worst: {
            // One key sent 30,000 times: each repeat once copied every earlier value (6 s).
            repeatedKey: filled('lead_source=AzureMarketplace-contoso', '&a'),
            // As many fields as a lead may have, each unknown to the model and as long as fits.
            mostFields: manyFields((i, room) => `&k${i}=${'x'.repeat(room)}`, 'lead_source=AzureMarketplace-contoso'),
        },
        run: (input) => attempt(() => parseLead(input, 'form', receipt)),
    },
    {
        name: 'json',
        plain: `${filled('{"LeadSource":"AzureMarketplace-contoso","Description":"', 'x').slice(0, size - 2)}"}`,
        worst: {
            // Thousands of properties the model does not know, each looked up and kept.
            manyMembers: `{"LeadSource":"x"${Array.from({ length: 8000 }, (_, i) => `,"k${i}":1`)
                .join('')
                .slice(0, size - 20)
                .replace(/,[^,]*$/, '')}}`,
            // As many properties as a lead may have, each unknown to the model and as long as fits.
            mostFields: `${manyFields((i, room) => `,"k${i}":"${'x'.repeat(room)}"`, '{"LeadSource":"AzureMarketplace-contoso"', 2)}}`,
        },
        run: (input) => attempt(() => parseLead(input, 'json', receipt)),
    },
    {
        name: 'campaign',
        plain: filled('Contact me about ', 'pricing and seats '),
        // Sixteen braces at each end around a long string: every span parses far before it fails.
        worst: {
            braces: '{'.repeat(16) + `"a":"${'x'.repeat(size - 40)}"` + '}'.repeat(16),
            // Braces that each may open or close an object: every pair is worth a try, and each try an exception.
            quotedBraces: '{"'.repeat(size / 4) + '"}'.repeat(size / 4),
        },
        run: (input) => {
            parseCampaign(input);
        },
    },
    {
        name: 'csv',
        plain: filled('Email,Description\n', `a@contoso.com,${'x'.repeat(200)}\n`),
        // Quotes doubled in one cell, and as many one-character cells as fit.
        worst: { quotesAndCells: `"${'""'.repeat(size / 4)}"\n${filled('', 'a,')}`.slice(0, size) },
        run: async (input) => {
            await drainCsv(input);
        },
    },
    {
        name: 'consoleQuery',
        plain: filled('q=', 'x'),
        // Thousands of parameters, each unknown.
        worst: { manyParameters: filled('q=a', '&b=1') },
        run: (input) => attempt(() => parseLeadQuery(new URLSearchParams(input))),
    },
];

async function timeOf(run: (input: string) => Promise<void> | void, input: string, rounds: number): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
        const started = performance.now();
        await run(input);
        times.push(performance.now() - started);
    }
    return median(times);
}

export interface ParserFigures {
    /** ms for the plain input, ms for the slowest worst input (named), and worst / plain. */
    [name: string]: { plainMs: number; worstMs: number; worstInput: string; ratio: number };
}

/**
 * Each parser that reads a request or an uploaded file, on its slowest known 64 KiB input against a
 * plain one of the same size, in the same run; the median of `rounds` after a warm-up.
 */
export async function benchParsers(rounds = 21): Promise<ParserFigures> {
    const figures: ParserFigures = {};
    for (const parser of cases) {
        for (const input of [parser.plain, ...Object.values(parser.worst)]) await timeOf(parser.run, input, 1);
        const plainMs = await timeOf(parser.run, parser.plain, rounds);
        let worst = { input: '', ms: 0 };
        for (const [name, input] of Object.entries(parser.worst)) {
            // An input far slower than the plain one (the old 6 s form) is timed a few times, not `rounds`.
            const ms = await timeOf(parser.run, input, plainMs > 0 && (await timeOf(parser.run, input, 1)) > 100 * plainMs ? 3 : rounds);
            if (ms > worst.ms) worst = { input: name, ms };
        }
        figures[parser.name] = { plainMs: round(plainMs, 3), worstMs: round(worst.ms, 3), worstInput: worst.input, ratio: round(worst.ms / plainMs, 2) };
    }
    return figures;
}

if (require.main === module) {
    void benchParsers().then((figures) => {
        process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    });
}
