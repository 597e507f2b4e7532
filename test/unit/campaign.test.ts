import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { campaignKeys, parseCampaign, type Campaign } from '../../src/lead/campaign';

/** Values as marketing tools write them: letters, digits and a few separators, never the ones the forms split on. */
const value = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,30}$/);
const campaign = fc.record(Object.fromEntries(campaignKeys.map((key) => [key, value])) as Record<(typeof campaignKeys)[number], fc.Arbitrary<string>>, { requiredKeys: [] });

describe('campaign values in a Description', () => {
    it('reads the forms AppSource and publishers use', () => {
        assert.deepEqual(parseCampaign('{"mktcmpid":"spring-launch","utm_source":"newsletter"}'), { mktcmpid: 'spring-launch', utm_source: 'newsletter' });
        assert.deepEqual(parseCampaign('Interested in pricing. mktcmpid=abc123&utm_medium=email'), { mktcmpid: 'abc123', utm_medium: 'email' });
        assert.deepEqual(parseCampaign('https://appsource.microsoft.com/en-us/product/web-apps/contoso?mktcmpid=C-1&utm_campaign=Launch%202026&utm_term=a+b'), {
            mktcmpid: 'C-1',
            utm_campaign: 'Launch 2026',
            utm_term: 'a b',
        });
        assert.deepEqual(parseCampaign('utm_source: "linked in", UTM-Content=hero\nmore text'), { utm_source: 'linked in', utm_content: 'hero' });
        assert.deepEqual(parseCampaign('Please call me about {"utm_source":"partner"} thanks'), { utm_source: 'partner' });
        assert.deepEqual(parseCampaign('{"UTM_SOURCE": 7, "mktcmpid": "", "other": "x"}'), { utm_source: '7' });
    });

    it('finds nothing where there is nothing, and ignores look-alikes', () => {
        for (const text of ['', 'Call me back', 'my_utm_source=x', 'utm_sourcex=y', '{"utm_source": {"a": 1}}', '{not json', 'mktcmpid', '=x']) assert.deepEqual(parseCampaign(text), {}, text);
    });

    it('never throws, and returns only known keys with short one-line values, for any text', () => {
        fc.assert(
            fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 200 }), fc.json(), fc.webUrl({ withQueryParameters: true })), (text) => {
                const found = parseCampaign(text);
                for (const [key, foundValue] of Object.entries(found)) {
                    assert.ok((campaignKeys as readonly string[]).includes(key), key);
                    assert.ok(typeof foundValue === 'string' && foundValue.length > 0 && foundValue.length <= 200);
                    // eslint-disable-next-line no-control-regex -- what must not be there
                    assert.doesNotMatch(foundValue, /[\u0000-\u001f]/);
                }
            }),
        );
    });

    it('reads back what was written as JSON, as key=value pairs, or in a URL query', () => {
        fc.assert(
            fc.property(
                campaign,
                fc.constantFrom('json', 'pairs', 'url'),
                fc.string({ maxLength: 20 }).filter((s) => !/[{}=&]|utm|mktcmpid/i.test(s)),
                (values: Campaign, form, prose) => {
                    const entries = Object.entries(values);
                    const written =
                        form === 'json'
                            ? `${prose} ${JSON.stringify(values)}`
                            : form === 'pairs'
                              ? `${prose} ${entries.map(([k, v]) => `${k}=${v}`).join('&')}`
                              : `${prose} https://example.com/offer?${new URLSearchParams(entries).toString()}`;
                    assert.deepEqual(parseCampaign(written), { ...values });
                },
            ),
        );
    });

    it('stays fast on hostile text full of braces', () => {
        assert.deepEqual(parseCampaign(`${'{'.repeat(20_000)}${'}'.repeat(20_000)}`), {});
    });
});
