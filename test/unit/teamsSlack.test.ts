import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defuseBroadcasts, leadPost } from '../../src/deliver/destinations/leadCard';
import { escapeMrkdwn, slackErrorCode, slackMessage } from '../../src/deliver/destinations/slack';
import { escapeTextBlock, teamsMessage, workflowsError } from '../../src/deliver/destinations/teams';
import { parseLead } from '../../src/intake/parseLead';
import type { Lead } from '../../src/lead/lead';
import { oneLine } from '../../src/notify/digest';

function lead(overrides: Record<string, unknown> = {}): Lead {
    const body = {
        UserDetails: { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada_l@contoso.example', Phone: '+44 20 7946 0034', Company: 'Contoso', Title: 'CTO', Country: 'GB' },
        LeadSource: 'AppSource (SPZA)-PLT|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
        Description: 'Call me',
        ...overrides,
    };
    return parseLead(JSON.stringify(body), 'json', { receivedAt: new Date('2026-01-02T03:04:05Z'), receiptId: 'r1' });
}

const console = 'https://leads.contoso.example/api/console';
const facts = (post: ReturnType<typeof leadPost>) => Object.fromEntries(post.facts.map((f) => [f.label, f.value]));

/** Strings that try every trick, mixed with arbitrary text. */
const tricks = fc
    .array(
        fc.oneof(
            fc.constantFrom('<!channel>', '<!here>', '<@U123>', '<at>Ada</at>', '@here', '@Channel', '@everyone', '@all', '*bold*', '_it_', '~s~', '`c`', '[x](http://evil)', '<http://evil|click>'),
            fc.constantFrom('&', '&amp;', '&lt;', '\\', '\\*', '\n', '\r\n', '\u2028', '\u202e', '\u2060', '\u0000', '- ', '1. ', '# ', '> ', '{{DATE(2026-01-01T00:00:00Z, SHORT)}}', '∗', 'ˍ', 'a', ' ', 'é'),
            fc.string({ maxLength: 6 }),
        ),
        { maxLength: 24 },
    )
    .map((parts) => parts.join(''));
const anyText = fc.oneof(tricks, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.string({ unit: 'grapheme', maxLength: 60 }));

const broadcast = /@(?:here|channel|everyone|all)(?![A-Za-z0-9])/i;
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const layoutBreaking = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const entities = (text: string) => text.replace(/&(amp|lt|gt);/g, (_, name: string) => (name === 'amp' ? '&' : name === 'lt' ? '<' : '>'));

describe('the content of a channel post', () => {
    it('says offer, source and action in words, company, title and country, and masks the contact by default', () => {
        const subject = lead();
        const post = leadPost(subject, 'create', { NOTIFY_PII: 'masked' }, console);
        assert.equal(post.title, 'New marketplace lead');
        assert.deepEqual(post.marks, []);
        assert.equal(post.offer, 'Contoso Analytics');
        assert.equal(post.origin, 'AppSource — contact me (PLT)');
        assert.deepEqual(facts(post), { Company: 'Contoso', Title: 'CTO', Country: 'GB', Name: 'Ada L.', 'E-mail': 'a***@contoso.example', Phone: '**********34', 'Lead id': subject.id });
        assert.equal(post.note, 'Contact details are masked (NOTIFY_PII).');
        assert.deepEqual(post.link, { title: 'Open in the console', url: `${console}/view/${subject.id}` });
        assert.equal(post.summary, 'New marketplace lead: Contoso Analytics from Contoso');
    });

    it('shows the contact in full or not at all as NOTIFY_PII says, and leaves the link out without a console URL', () => {
        const full = leadPost(lead(), 'create', { NOTIFY_PII: 'full' }, undefined);
        assert.deepEqual([facts(full).Name, facts(full)['E-mail'], facts(full).Phone], ['Ada Lovelace', 'ada_l@contoso.example', '+44 20 7946 0034']);
        assert.equal(full.note, '');
        assert.equal(full.link, undefined);
        const none = leadPost(lead(), 'create', { NOTIFY_PII: 'none' }, console);
        assert.deepEqual(Object.keys(facts(none)), ['Company', 'Title', 'Country', 'Lead id']);
        assert.equal(none.note, 'Contact details are not shown (NOTIFY_PII).');
    });

    it('marks an update, a test lead and a do-not-contact lead, which shows no contact details even with NOTIFY_PII=full', () => {
        const updated = leadPost(lead(), 'update', { NOTIFY_PII: 'masked' }, console);
        assert.equal(updated.title, 'Updated marketplace lead');
        assert.deepEqual(updated.marks, ['UPDATED']);
        const test = leadPost(lead({ LeadSource: 'MSFT_TEST_123-MSFT_TEST_456|Contoso Analytics' }), 'create', { NOTIFY_PII: 'masked' }, console);
        assert.deepEqual(test.marks, ['TEST LEAD']);
        assert.match(test.summary, /\[TEST LEAD\]$/);
        const dnc = leadPost(lead({ LeadSource: 'AzureMarketplace-DNC|contoso.analytics' }), 'update', { NOTIFY_PII: 'full' }, console);
        assert.deepEqual(dnc.marks, ['UPDATED', 'DO NOT CONTACT']);
        assert.deepEqual(Object.keys(facts(dnc)), ['Company', 'Title', 'Country', 'Contact', 'Lead id']);
        assert.equal(facts(dnc).Contact, 'do not contact');
    });

    it('keeps every value on one line and at most 200 characters', () => {
        const post = leadPost(lead({ UserDetails: { Company: `Contoso\nLtd ${'x'.repeat(400)}`, Email: 'a@b.example' } }), 'create', { NOTIFY_PII: 'full' }, console);
        const company = facts(post).Company ?? '';
        assert.ok(company.startsWith('Contoso Ltd x'));
        assert.equal(Array.from(company).length, 200);
        assert.ok(company.endsWith('…'));
    });
});

describe('the Teams card', () => {
    it('is a message with one adaptive card 1.4: title, marks, offer, origin, facts, note and an OpenUrl action', () => {
        const subject = lead({ LeadSource: 'MSFT_TEST_1-MSFT_TEST_2|Contoso Analytics' });
        const message = teamsMessage(leadPost(subject, 'update', { NOTIFY_PII: 'masked' }, console));
        assert.equal(message.type, 'message');
        assert.equal(message.attachments.length, 1);
        const [attachment] = message.attachments;
        assert.equal(attachment?.contentType, 'application/vnd.microsoft.card.adaptive');
        const card = attachment.content as { $schema: string; type: string; version: string; body: { type: string; text?: string; facts?: { title: string; value: string }[] }[]; actions: unknown[] };
        assert.equal(card.$schema, 'http://adaptivecards.io/schemas/adaptive-card.json');
        assert.equal(card.type, 'AdaptiveCard');
        assert.equal(card.version, '1.4');
        assert.deepEqual(
            card.body.filter((e) => e.type === 'TextBlock').map((e) => e.text),
            ['Updated marketplace lead', 'UPDATED · TEST LEAD', 'Contoso Analytics', 'Marketplace test lead', 'Contact details are masked (NOTIFY_PII).'],
        );
        const factSet = card.body.find((e) => e.type === 'FactSet');
        assert.deepEqual(
            factSet?.facts?.find((f) => f.title === 'E-mail'),
            { title: 'E-mail', value: 'a\\*\\*\\*@contoso.example' },
        );
        assert.deepEqual(card.actions, [{ type: 'Action.OpenUrl', title: 'Open in the console', url: `${console}/view/${subject.id}` }]);
    });

    it('escapes lead text for TextBlock markdown: entities for < > &, backslashes for markup, no mentions', () => {
        assert.equal(escapeTextBlock('<at>Ada</at> & <!channel>'), '&lt;at&gt;Ada&lt;/at&gt; &amp; &lt;!channel&gt;');
        assert.equal(escapeTextBlock('*bold* _it_ [x](http://evil)'), '\\*bold\\* \\_it\\_ \\[x\\]\\(http://evil\\)');
        assert.equal(escapeTextBlock('- item'), '\\- item');
        assert.equal(escapeTextBlock('1. first'), '1\\. first');
        assert.equal(escapeTextBlock('{{DATE(2026-01-01T00:00:00Z)}}'), '\\{\\{DATE\\(2026-01-01T00:00:00Z\\)\\}\\}');
        assert.equal(escapeTextBlock('ping @here\nand\u202e @channel'), 'ping @\u2060here and @\u2060channel');
        assert.equal(escapeTextBlock('mail@heresy.example'), 'mail@heresy.example');
    });

    it('for any string, leaves no <, no unescaped markup, no mention and no line break, and reads back as the text itself', () => {
        fc.assert(
            fc.property(anyText, (text) => {
                const escaped = escapeTextBlock(text);
                assert.doesNotMatch(escaped, /[<>]/);
                assert.doesNotMatch(escaped.replace(/&(?:amp|lt|gt);/g, ''), /&/);
                assert.doesNotMatch(escaped.replace(/\\[\s\S]/g, ''), /[\\`*_~[\](){}]/);
                assert.doesNotMatch(escaped, /^(?:[-+#]|\d+[.)])/);
                assert.doesNotMatch(escaped, broadcast);
                assert.doesNotMatch(escaped, layoutBreaking);
                const shown = entities(escaped.replace(/\\([!-/:-@[-`{-~])/g, '$1')).replaceAll('\u2060', '');
                assert.equal(shown, oneLine(text));
            }),
            { numRuns: 2000 },
        );
    });

    it('keeps only the Workflows error code of a refusal', () => {
        assert.deepEqual(workflowsError({ error: { code: 'TriggerInputSchemaMismatch', message: 'The input body "Ada Lovelace" …' } }), { codes: ['TriggerInputSchemaMismatch'] });
        assert.deepEqual(workflowsError({ error: { code: 'Ada Lovelace <ada@contoso.example>' } }), { codes: [] });
        assert.deepEqual(workflowsError('not json'), { codes: [] });
    });
});

describe('the Slack message', () => {
    it('has the summary as text, and header, context, section with fields, context and actions blocks', () => {
        const subject = lead({ LeadSource: 'AzureMarketplace-DNC|contoso.analytics' });
        const message = slackMessage(leadPost(subject, 'create', { NOTIFY_PII: 'masked' }, console));
        assert.equal(message.text, 'New marketplace lead: Contoso Analytics from Contoso [DO NOT CONTACT]');
        assert.equal(message.unfurl_links, false);
        assert.deepEqual(
            message.blocks.map((b) => b.type),
            ['header', 'context', 'section', 'context', 'actions'],
        );
        assert.deepEqual(message.blocks[0], { type: 'header', text: { type: 'plain_text', text: 'New marketplace lead', emoji: false } });
        assert.deepEqual(message.blocks[1], { type: 'context', elements: [{ type: 'mrkdwn', text: '*DO NOT CONTACT*', verbatim: true }] });
        const section = message.blocks[2] as { text: { text: string }; fields: { type: string; text: string; verbatim: boolean }[] };
        assert.equal(section.text.text, '*Contoso Analytics*\nAzure Marketplace — do not contact (DNC)');
        assert.deepEqual(
            section.fields.map((f) => f.text),
            ['*Company:* Contoso', '*Title:* CTO', '*Country:* GB', '*Contact:* do not contact', `*Lead id:* ${subject.id}`],
        );
        assert.ok(section.fields.every((f) => f.type === 'mrkdwn' && f.verbatim));
        assert.deepEqual(message.blocks[4], {
            type: 'actions',
            elements: [{ type: 'button', action_id: 'open-lead', text: { type: 'plain_text', text: 'Open in the console', emoji: false }, url: `${console}/view/${subject.id}` }],
        });
    });

    it('escapes lead text for mrkdwn: entities for < > &, look-alikes for markers, no mentions', () => {
        assert.equal(escapeMrkdwn('<!channel> <@U123> <http://evil|click> & co'), '&lt;!channel&gt; &lt;@U123&gt; &lt;http://evil|click&gt; &amp; co');
        assert.equal(escapeMrkdwn('*bold* _it_ ~s~ `c`'), '∗bold∗ ˍitˍ ∼s∼ ˋcˋ');
        assert.equal(escapeMrkdwn('ada_l@contoso.example a***@contoso.example'), 'ada_l@contoso.example a∗∗∗@contoso.example');
        assert.equal(escapeMrkdwn('@here @Everyone\n@all'), '@\u2060here @\u2060Everyone @\u2060all');
        assert.equal(defuseBroadcasts('@heretic @channels'), '@heretic @channels');
    });

    it('for any string, leaves no <, no marker Slack would format, no mention and no line break, and reads back as the text itself', () => {
        const plain = (text: string) => text.replaceAll('∗', '*').replaceAll('ˍ', '_').replaceAll('∼', '~').replaceAll('ˋ', '`');
        fc.assert(
            fc.property(anyText, (text) => {
                const escaped = escapeMrkdwn(text);
                assert.doesNotMatch(escaped, /[<>*~`]/);
                assert.doesNotMatch(escaped.replace(/&(?:amp|lt|gt);/g, ''), /&/);
                assert.doesNotMatch(escaped.replace(/[A-Za-z0-9]_(?=[A-Za-z0-9])/g, ''), /_/);
                assert.doesNotMatch(escaped, broadcast);
                assert.doesNotMatch(escaped, layoutBreaking);
                assert.equal(plain(entities(escaped).replaceAll('\u2060', '')), plain(oneLine(text)));
            }),
            { numRuns: 2000 },
        );
    });

    it('reads only a bare snake_case code from an error body', () => {
        assert.equal(slackErrorCode('invalid_payload'), 'invalid_payload');
        assert.equal(slackErrorCode('no_service\n'), 'no_service');
        assert.equal(slackErrorCode('ok'), undefined);
        assert.equal(slackErrorCode('invalid_payload: Ada Lovelace <ada@contoso.example>'), undefined);
        assert.equal(slackErrorCode('<html>Bad gateway</html>'), undefined);
    });
});
