import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLead } from '../../src/intake/parseLead';
import { leadSchema, type Lead } from '../../src/lead/lead';
import { anchoredTo } from '../../src/lead/normalize';
import { changedFields } from '../../src/lead/version';
import { documentedSample, msftTestForm } from '../helpers/samples';
import { refusal } from '../helpers/intake';

const at = { receivedAt: new Date('2026-11-22T10:00:00.000Z'), receiptId: 'receipt-1' };

function jsonLead(body: unknown): Lead {
    return parseLead(JSON.stringify(body), 'json', at);
}

function formLead(form: URLSearchParams | string): Lead {
    return parseLead(String(form), 'form', at);
}

describe('the lead model', () => {
    it('reads the documented HTTPS endpoint example', () => {
        const lead = jsonLead(documentedSample());
        assert.deepEqual(lead.customer, {
            firstName: 'Some',
            lastName: 'One',
            email: 'someone@contoso.com',
            phone: '16175555555',
            country: 'USA',
            company: 'Contoso',
            title: 'Esquire',
        });
        assert.equal(lead.source, 'AzureMarketplace');
        assert.equal(lead.action, 'INS');
        assert.equal(lead.offerTitle, 'Test Microsoft');
        assert.equal(lead.description, 'Test run through Power Automate');
        assert.equal(lead.format, 'json');
        assert.equal(lead.receivedAt, at.receivedAt.toISOString());
        assert.equal(lead.receiptId, 'receipt-1');
        assert.equal(lead.isTest, false);
        assert.equal(lead.doNotContact, false);
        assert.match(lead.id, /^[0-9a-f]{32}$/);
        assert.doesNotThrow(() => leadSchema.parse(lead));
    });

    it('reads the documented MSFT_TEST lead as a web-to-lead form and flags it as a test', () => {
        const lead = formLead(msftTestForm());
        assert.equal(lead.isTest, true);
        assert.equal(lead.format, 'form');
        assert.equal(lead.customer.email, 'msft_test_636573304831318844@test.com');
        assert.equal(lead.customer.country, 'US');
        assert.equal(lead.customer.phone, '1234567890');
        assert.equal(lead.source, 'MSFT_TEST_636573304831318844');
        assert.equal(lead.offer, '<Offer Name>');
        assert.deepEqual(lead.extra, { encoding: ['UTF-8', 'UTF-8'], oid: '00Do0000000ZHog' });
    });

    it('matches property names case-insensitively (UserDetails and userDetails)', () => {
        const sample = documentedSample();
        const camel = {
            userDetails: { firstName: 'Some', lastname: 'One', EMAIL: 'someone@contoso.com' },
            leadSource: 'AzureMarketplace',
            actioncode: 'INS',
            offerTitle: 'Test Microsoft',
        };
        const a = jsonLead(camel);
        const b = jsonLead(sample);
        assert.equal(a.customer.firstName, 'Some');
        assert.equal(a.customer.lastName, 'One');
        assert.equal(a.id, b.id);
    });

    it('reads source, action and offer from the combined LeadSource', () => {
        const lead = jsonLead({ LeadSource: 'AzureMarketplace-INS|contoso.contoso-analytics-byol', UserDetails: { Email: 'a@b.com' } });
        assert.equal(lead.source, 'AzureMarketplace');
        assert.equal(lead.action, 'INS');
        assert.equal(lead.publisherId, 'contoso');
        assert.equal(lead.offerId, 'contoso-analytics-byol');
    });

    it('reads the split fields, and lets an explicit ActionCode win', () => {
        const split = jsonLead({ LeadSource: 'AzurePortal', ActionCode: 'create', OfferTitle: 'Fabrikam CRM' });
        assert.equal(split.source, 'AzurePortal');
        assert.equal(split.action, 'Create');
        assert.equal(split.offer, '');
        const both = jsonLead({ LeadSource: 'AzureMarketplace-INS|a.b', ActionCode: 'PLT' });
        assert.equal(both.action, 'PLT');
    });

    it('reads AppSource (SPZA) with its space and parentheses', () => {
        const lead = jsonLead({ LeadSource: 'AppSource (SPZA)-PLT|contoso.crm' });
        assert.equal(lead.source, 'AppSource (SPZA)');
        assert.equal(lead.action, 'PLT');
    });

    it('flags do-not-contact leads', () => {
        assert.equal(jsonLead({ LeadSource: 'AzureMarketplace-DNC|a.b' }).doNotContact, true);
        assert.equal(jsonLead({ LeadSource: 'AzureMarketplace', ActionCode: 'dnc' }).doNotContact, true);
    });

    it('reads test drive leads', () => {
        const lead = jsonLead({ LeadSource: 'TestDrive-StartTestDrive|contoso.sandbox', UserDetails: { Email: 'x@y.com' } });
        assert.equal(lead.source, 'TestDrive');
        assert.equal(lead.action, 'StartTestDrive');
        assert.equal(lead.isTest, false);
    });

    it('accepts the empty lead of an .edu customer, who comes with no personal data', () => {
        const lead = jsonLead({
            UserDetails: { FirstName: '', LastName: '', Email: '', Phone: '', Country: '', Company: '', Title: '' },
            LeadSource: 'AzureMarketplace-INS|contoso.analytics',
            ActionCode: 'INS',
            OfferTitle: 'Contoso Analytics',
            Description: '',
        });
        assert.equal(lead.customer.email, '');
        assert.equal(lead.offerId, 'analytics');
        assert.doesNotThrow(() => leadSchema.parse(lead));
        const noDetails = jsonLead({ LeadSource: 'AzureMarketplace-INS|contoso.analytics', UserDetails: null });
        assert.equal(noDetails.customer.firstName, '');
    });

    it('keeps unknown properties, including a "__proto__" key, as plain data', () => {
        const lead = parseLead('{"LeadSource":"AzureMarketplace","Campaign":{"id":7},"UserDetails":{"Email":"a@b.c","Department":"R&D"},"__proto__":{"x":1}}', 'json', at);
        assert.deepEqual(lead.extra.Campaign, { id: 7 });
        assert.equal(lead.extra['UserDetails.Department'], 'R&D');
        assert.deepEqual(Object.getOwnPropertyDescriptor(lead.extra, '__proto__')?.value, { x: 1 });
        assert.equal(Object.getPrototypeOf(lead.extra), Object.prototype);
    });

    it('trims text, lower-cases the e-mail and keeps unicode names', () => {
        const lead = jsonLead({ UserDetails: { FirstName: '  Zoë ', LastName: '\tØrsted-Łukasz ', Email: ' Zoe@Contoso.COM ', Company: '株式会社コントソ' }, LeadSource: ' AzureMarketplace ' });
        assert.equal(lead.customer.firstName, 'Zoë');
        assert.equal(lead.customer.lastName, 'Ørsted-Łukasz');
        assert.equal(lead.customer.email, 'zoe@contoso.com');
        assert.equal(lead.customer.company, '株式会社コントソ');
        assert.equal(lead.leadSource, 'AzureMarketplace');
    });

    it('takes numbers as text and null as absent', () => {
        const lead = jsonLead({ UserDetails: { Phone: 16175555555, FirstName: null }, LeadSource: 'AzureMarketplace' });
        assert.equal(lead.customer.phone, '16175555555');
        assert.equal(lead.customer.firstName, '');
    });

    it('gives the same lead the same id, and another customer, offer or action another id', () => {
        const base = { UserDetails: { Email: 'a@contoso.com' }, LeadSource: 'AzureMarketplace-INS|contoso.x' };
        const id = jsonLead(base).id;
        assert.equal(jsonLead({ ...base, Description: 'again, later' }).id, id);
        assert.equal(jsonLead({ ...base, UserDetails: { Email: 'A@Contoso.com ' } }).id, id);
        assert.notEqual(jsonLead({ ...base, UserDetails: { Email: 'b@contoso.com' } }).id, id);
        assert.notEqual(jsonLead({ ...base, LeadSource: 'AzureMarketplace-INS|contoso.y' }).id, id);
        assert.notEqual(jsonLead({ ...base, LeadSource: 'AzureMarketplace-PLT|contoso.x' }).id, id);
    });

    it('reads a form in any key casing, taking the first non-empty value of a repeated field', () => {
        const lead = formLead('First_Name=&first_name=Ada&EMAIL=Ada%40Example.com&lead_source=AppSource+(SPZA)-PLT%7Cpub.offer');
        assert.equal(lead.customer.firstName, 'Ada');
        assert.equal(lead.customer.email, 'ada@example.com');
        assert.equal(lead.source, 'AppSource (SPZA)');
    });
});

describe('leads the model refuses', () => {
    it('names each bad field as the sender named it', () => {
        const error = refusal(() => jsonLead({ userDetails: 'Some One', LeadSource: ['x'], Title: { a: 1 } }));
        assert.equal(error.status, 400);
        assert.deepEqual(error.problems.map((p) => p.field).sort(), ['LeadSource', 'Title', 'userDetails']);
        assert.match(error.message, /userDetails: expected an object, got a string/);
    });

    it('refuses a body that is not a JSON object', () => {
        for (const body of ['[]', '"lead"', '42', 'null', 'true']) {
            const error = refusal(() => parseLead(body, 'json', at));
            assert.equal(error.status, 400);
            assert.match(error.message, /expected a JSON object/);
        }
    });

    it('refuses broken JSON without quoting the body back', () => {
        const error = refusal(() => parseLead('{"UserDetails": {"Email": "secret@contoso.com"', 'json', at));
        assert.equal(error.status, 400);
        assert.match(error.message, /not valid JSON/);
        assert.doesNotMatch(error.message, /secret/);
    });

    it('refuses an empty body and a body with no lead fields', () => {
        assert.match(refusal(() => parseLead('  ', 'json', at)).message, /empty/);
        assert.match(refusal(() => jsonLead({})).message, /no lead fields/);
        assert.match(refusal(() => jsonLead({ foo: 'bar' })).message, /no lead fields/);
        assert.match(refusal(() => formLead('a=b')).message, /no lead fields/);
    });

    it('refuses absurdly deep nesting before parsing it', () => {
        const deep = `{"LeadSource":"x","extra":${'['.repeat(5000)}${']'.repeat(5000)}}`;
        const error = refusal(() => parseLead(deep, 'json', at));
        assert.equal(error.status, 400);
        assert.match(error.message, /nests 5001 levels/);
        assert.doesNotThrow(() => parseLead('{"LeadSource":"x","note":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 'json', at));
    });
});

describe('leads with nothing that tells customers apart', () => {
    it('are not merged: two anonymous .edu leads for the same offer get different ids', () => {
        const edu = JSON.stringify({ UserDetails: { FirstName: '', Email: '' }, LeadSource: 'AzureMarketplace-PLT|contoso.analytics' });
        const first = parseLead(edu, 'json', { receivedAt: new Date(), receiptId: 'post-1' });
        const second = parseLead(edu, 'json', { receivedAt: new Date(), receiptId: 'post-2' });
        assert.notEqual(first.id, second.id);
    });
});

describe('a retry of an anonymous lead', () => {
    const edu = JSON.stringify({ UserDetails: { FirstName: '', Email: '' }, LeadSource: 'AzureMarketplace-PLT|contoso.analytics' });

    it('takes the id of the POST it repeats, which intake names as its anchor', () => {
        const first = parseLead(edu, 'json', { receivedAt: new Date(), receiptId: 'post-1' });
        const retry = anchoredTo(parseLead(edu, 'json', { receivedAt: new Date(), receiptId: 'post-2' }), 'post-1');
        assert.equal(retry.id, first.id);
        assert.equal(retry.version, first.version);
        assert.equal(retry.receiptId, 'post-2', 'each POST is still counted as its own occurrence');
    });

    it('never changes a lead that tells its customer apart', () => {
        const named = jsonLead({ UserDetails: { Email: 'ada@contoso.example' }, LeadSource: 'AzureMarketplace-PLT|contoso.analytics' });
        assert.equal(anchoredTo(named, 'someone-else').id, named.id);
    });
});

describe('versions of a lead', () => {
    const base = { UserDetails: { FirstName: 'Ada', Email: 'ada@contoso.example', Title: 'CTO', Phone: '1' }, LeadSource: 'AzureMarketplace-INS|contoso.analytics', Description: 'Interested' };

    it('are the same for an identical repeat, whatever the key order, case of names or surrounding space', () => {
        const again = parseLead(JSON.stringify({ description: ' Interested ', leadsource: base.LeadSource, userdetails: { phone: '1', title: 'CTO', email: 'ADA@contoso.example', firstname: 'Ada' } }), 'json', {
            receivedAt: new Date(),
            receiptId: 'r2',
        });
        assert.equal(again.version, jsonLead(base).version);
        assert.equal(again.id, jsonLead(base).id);
    });

    it('differ when the content does, naming what changed', () => {
        const first = jsonLead(base);
        const update = jsonLead({ ...base, UserDetails: { ...base.UserDetails, Title: 'CEO', Phone: '2' }, Description: 'Ready to buy 500 seats' });
        assert.equal(update.id, first.id, 'the same lead');
        assert.notEqual(update.version, first.version);
        assert.deepEqual(changedFields(first, update), ['Phone', 'Title', 'Description']);
    });
});
