import { parseArgs } from 'node:util';

const usage = `Usage: npm run send-test-lead [-- --url URL] [-- --code KEY] [-- --offer NAME]

Posts a marketplace test lead (MSFT_TEST) to a running app, as Partner Center's Validate button
does, and prints the outcome. Defaults: --url http://localhost:7071/api/leads.`;

/** .NET ticks (100 ns since 0001-01-01): the digits the marketplace puts in MSFT_TEST values. */
function ticksNow(): string {
    const epochTicks = 621_355_968_000_000_000n;
    return String(epochTicks + BigInt(Date.now()) * 10_000n);
}

/** The web-to-lead form body of the marketplace's test lead, field for field. */
export function testLeadForm(offerName: string, marker = `MSFT_TEST_${ticksNow()}`): URLSearchParams {
    return new URLSearchParams([
        ['company', marker],
        ['country', 'US'],
        ['description', marker],
        ['email', `${marker}@test.com`],
        ['encoding', 'UTF-8'],
        ['encoding', 'UTF-8'],
        ['first_name', marker],
        ['last_name', marker],
        ['lead_source', `${marker}-${marker}|${offerName}`],
        ['oid', '00Do0000000ZHog'],
        ['phone', '1234567890'],
        ['title', marker],
    ]);
}

async function main(): Promise<number> {
    const { values } = parseArgs({
        options: {
            url: { type: 'string', default: process.env.LEADS_URL ?? 'http://localhost:7071/api/leads' },
            code: { type: 'string', default: process.env.LEADS_KEY },
            offer: { type: 'string', default: '<Offer Name>' },
            help: { type: 'boolean', short: 'h' },
        },
    });
    if (values.help) {
        process.stdout.write(`${usage}\n`);
        return 0;
    }
    const url = new URL(values.url);
    if (values.code) url.searchParams.set('code', values.code);
    const body = testLeadForm(values.offer);
    let response: Response;
    try {
        response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
        // fetch throws "fetch failed" with the reason, such as ECONNREFUSED, as its cause.
        const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause : error).message : String(error);
        process.stderr.write(`Could not reach ${values.url}: ${reason}\nIs the app running (npm start)?\n`);
        return 1;
    }
    const text = await response.text();
    process.stdout.write(`POST ${values.url} -> ${response.status}\n${text}\n`);
    if (response.status === 202) {
        process.stdout.write(`The test lead was accepted; search your destinations for ${body.get('company')}.\n`);
        return 0;
    }
    return 1;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`${String(error)}\n`);
            process.exit(1);
        },
    );
}
