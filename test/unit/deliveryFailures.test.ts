import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryFailure } from '../../src/deliver/destination';
import { dataverseError } from '../../src/deliver/destinations/dynamics';
import { hubSpotError } from '../../src/deliver/destinations/hubspot';
import { call, failureFor } from '../../src/deliver/http';
import { freePort } from '../helpers/processes';

const echoed = 'Ada Lovelace <ada@contoso.example>, +44 20 7946 0000, Contoso';

async function failureOf(run: Promise<unknown>): Promise<DeliveryFailure> {
    const error: unknown = await run.then(
        () => undefined,
        (e: unknown) => e,
    );
    assert.ok(error instanceof DeliveryFailure, String(error));
    return error;
}

describe('delivery failure messages', () => {
    it('keep the status, the vendor codes and the field names, never the body', async () => {
        const hubspot = {
            status: 'error',
            message: `Property values were not valid: ${echoed}`,
            category: 'VALIDATION_ERROR',
            errors: [{ code: 'INVALID_EMAIL', message: echoed, in: 'email', context: { propertyName: ['email', echoed] } }, { code: echoed }],
        };
        const hubspotFailure = await failureFor(new Response(JSON.stringify(hubspot), { status: 400 }), 'HubSpot', hubSpotError);
        assert.equal(hubspotFailure.message, 'HubSpot answered 400 with category "VALIDATION_ERROR", error code "INVALID_EMAIL", field "email".');
        assert.equal(hubspotFailure.kind, 'permanent');

        const dataverse = { error: { code: '0x80040217', message: echoed } };
        assert.equal((await failureFor(new Response(JSON.stringify(dataverse), { status: 400 }), 'Dynamics 365', dataverseError)).message, 'Dynamics 365 answered 400 with error code "0x80040217".');
        assert.equal((await failureFor(new Response(echoed, { status: 503 }), 'Dynamics 365', dataverseError)).message, 'Dynamics 365 answered 503.');
        assert.equal((await failureFor(new Response(JSON.stringify({ error: echoed }), { status: 400 }), 'The webhook')).message, 'The webhook answered 400.');
    });

    it('name a network failure by its code and the origin, never the path (which may hold an e-mail) or a header value', async () => {
        const origin = `http://127.0.0.1:${await freePort()}`;
        const refused = await failureOf(call(`${origin}/crm/v3/objects/contacts/ada%40contoso.example?idProperty=email`, { timeoutMs: 2000, service: 'HubSpot' }));
        assert.equal(refused.message, `HubSpot could not be reached at ${origin} (ECONNREFUSED).`);
        assert.equal(refused.kind, 'transient');

        const badHeader = await failureOf(call(`${origin}/`, { headers: { authorization: 'Bearer pat-\nsecret' }, timeoutMs: 2000, service: 'HubSpot' }));
        assert.doesNotMatch(badHeader.message, /secret/);
        const credentials = await failureOf(call('http://ada%40contoso.example@127.0.0.1:1/', { timeoutMs: 2000, service: 'The webhook' }));
        assert.doesNotMatch(credentials.message, /ada/);
    });
});
