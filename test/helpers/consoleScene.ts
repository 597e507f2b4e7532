import type { ServerResponse } from 'node:http';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import type { Lead } from '../../src/lead/lead';
import { json, startTestServer, type TestServer } from './httpServer';
import { freePort, postLead, startApp, type RunningApp } from './processes';
import { eventually } from './queues';

/** A fictional lead the scene posts, and what its webhook does with it. */
interface SceneLead {
    key: string;
    company: string;
    offer: string;
    source: string;
    action: string;
    /** `refuse`: the webhook answers 400, so the lead goes to the poison queue at once; `hang`: Slack does not answer, so the post is uncertain. */
    trouble?: 'refuse' | 'hang';
}

/** Varied leads, oldest first, of fictional companies: sources, actions, offers, a test lead, one refused and one left unanswered. */
const sceneLeads: readonly SceneLead[] = [
    { key: 'fabrikam', company: 'Fabrikam', offer: 'Contoso Analytics', source: 'AzureMarketplace', action: 'INS' },
    { key: 'northwind', company: 'Northwind Traders', offer: 'Contoso CRM', source: 'AppSource', action: 'PLT' },
    { key: 'tailspin', company: 'Tailspin Toys', offer: 'Contoso Analytics', source: 'AzurePortal', action: 'Create' },
    { key: 'test', company: 'MSFT_TEST Contoso', offer: 'Contoso CRM', source: 'AzureMarketplace', action: 'PLT' },
    { key: 'woodgrove', company: 'Woodgrove Bank', offer: 'Contoso Data Platform for Financial Services', source: 'AppSource', action: 'StartTestDrive' },
    { key: 'refused', company: 'Alpine Ski House', offer: 'Contoso Analytics', source: 'AzureMarketplace', action: 'INS', trouble: 'refuse' },
    { key: 'uncertain', company: 'Coho Winery', offer: 'Contoso CRM', source: 'AppSource', action: 'PLT', trouble: 'hang' },
    { key: 'adventure', company: 'Adventure Works Cycles International', offer: 'Contoso Analytics', source: 'AzureMarketplace', action: 'INS' },
];

export interface ConsoleScene {
    azurite: Azurite;
    app: RunningApp;
    webhook: TestServer;
    /** Lead ids by the scene's keys (fabrikam, northwind, tailspin, test, woodgrove, refused, uncertain, adventure). */
    ids: Record<string, string>;
    /** From now on the webhook takes every lead. */
    heal(): void;
    stop(): Promise<void>;
}

function bodyOf(lead: SceneLead, i: number): Record<string, unknown> {
    const slug = lead.company.toLowerCase().replace(/[^a-z]+/g, '');
    return {
        UserDetails: { FirstName: 'Ada', LastName: `Example${i}`, Email: `ada@${slug}.example`, Company: lead.company, Phone: `+1 617 555 01${String(i).padStart(2, '0')}`, Country: 'US', Title: 'Buyer' },
        LeadSource: `${lead.source}-${lead.action}|contoso.${lead.offer.toLowerCase().replace(/\s+/g, '-')}`,
        OfferTitle: lead.offer,
    };
}

/**
 * The console with something to show: the app on the local host over a real Azurite, a webhook
 * that refuses one lead and a Slack channel that leaves another unanswered (one server plays
 * both), and varied fictional leads, two of them in the poison queue once it resolves.
 */
export async function startConsoleScene(): Promise<ConsoleScene> {
    const azurite = await startAzurite();
    let healed = false;
    const hanging: ServerResponse[] = [];
    const webhook = await startTestServer((request, res) => {
        if (request.path === '/slack') {
            const hang = !healed && sceneLeads.some((l) => l.trouble === 'hang' && request.body.includes(l.company));
            return hang ? void hanging.push(res) : res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        }
        const company = (JSON.parse(request.body) as Lead).customer.company;
        if (!healed && sceneLeads.some((l) => l.trouble === 'refuse' && l.company === company)) return json(res, 400, { error: 'unknown field' });
        json(res, 200, { ok: true });
    });
    const stopAll = async () => {
        for (const res of hanging) res.destroy();
        await app?.stop();
        await webhook.close();
        await azurite.stop();
    };
    let app: RunningApp | undefined;
    const ids: Record<string, string> = {};
    let health = '';
    try {
        app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                LEAD_DESTINATIONS: 'table,webhook,slack',
                WEBHOOK_URL: `${webhook.url}/hook`,
                SLACK_WEBHOOK_URL: `${webhook.url}/slack`,
                DELIVERY_RETRY_SECONDS: '1',
                DELIVERY_TIMEOUT_SECONDS: '2',
            },
            port: await freePort(),
        });
        const url = app.url;
        for (const [i, lead] of sceneLeads.entries()) ids[lead.key] = await postLead(url, bodyOf(lead, i));
        await eventually(
            async () => {
                health = await (await fetch(`${url}/api/console/health`)).text();
                return (JSON.parse(health) as { poisonCount: number }).poisonCount >= 2 && webhook.requests.length >= 2 * sceneLeads.length ? true : undefined;
            },
            60_000,
            'the refused and the unanswered lead in the poison queue',
        );
    } catch (error) {
        const output = app?.output() ?? '';
        await stopAll();
        throw new Error(`The console scene did not come together (${error instanceof Error ? error.message : String(error)}); health ${health}; the app said:\n${output}`, { cause: error });
    }
    return {
        azurite,
        app,
        webhook,
        ids,
        heal: () => (healed = true),
        stop: stopAll,
    };
}
